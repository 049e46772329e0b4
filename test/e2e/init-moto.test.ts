import {
  AddTagsToResourceCommand as AddCacheTags,
  CreateReplicationGroupCommand,
  ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import {
  AddTagsToResourceCommand,
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { readStageFile } from '../../shared/config/files.js';
import { useTempDir } from '../support/bad-configs.js';
import { createMotoInstance, useMotoEnvironment } from '../support/moto.js';

// steward init through real HTTP and the real SDK serialisers against moto (AWS_ENDPOINT_URL): the
// describes it reads, and tagging commands whose ARNs the API accepts.
const REGION = 'eu-west-1';

/** `aws <service> add-tags-to-resource --region r --resource-name <arn> --tags Key=k,Value=v` → its parts. */
const parseCommand = (line: string) => {
  const m =
    /^aws (rds|elasticache) add-tags-to-resource --region (\S+) --resource-name (\S+) --tags Key=([^,]+),Value=(\S+)$/.exec(
      line.trim(),
    );
  if (!m) throw new Error(`not a tagging command: ${line}`);
  return { service: m[1]!, region: m[2]!, arn: m[3]!, key: m[4]!, value: m[5]! };
};

describe('steward init against an emulated account', () => {
  useMotoEnvironment(REGION);
  const tempDir = useTempDir();
  let rds: RDSClient;
  let cache: ElastiCacheClient;

  beforeAll(async () => {
    rds = new RDSClient({ region: REGION });
    cache = new ElastiCacheClient({ region: REGION });
    await createMotoInstance(rds, 'orders-db', {
      BackupRetentionPeriod: 7,
      PreferredBackupWindow: '02:30-03:00',
    });
    await rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: 'billing',
        Engine: 'aurora-postgresql',
        MasterUsername: 'app',
        MasterUserPassword: 'not-a-secret-1',
      }),
    );
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'billing-1',
        DBClusterIdentifier: 'billing',
        DBInstanceClass: 'db.r6g.large',
        Engine: 'aurora-postgresql',
      }),
    );
    await cache.send(
      new CreateReplicationGroupCommand({
        ReplicationGroupId: 'sessions-redis',
        ReplicationGroupDescription: 'sessions',
        Engine: 'redis',
        CacheNodeType: 'cache.t4g.micro',
        NumCacheClusters: 1,
      }),
    );
  });

  it('writes a valid config and tagging commands the API accepts; a second run sees the tags', async () => {
    // Prepare
    const dir = tempDir();
    const out: string[] = [];

    // Act
    const code = await main(['init', '--stage', 'acme', '--config', dir, '--region', REGION, '--all'], (s) =>
      out.push(s),
    );

    // Assert: the instance, the cluster (not its member) and the group, with exact commands
    expect(code).toBe(0);
    const text = out.join('\n');
    const commands = text.split('\n').filter((l) => l.trim().startsWith('aws '));
    expect(commands.map((c) => parseCommand(c))).toEqual([
      expect.objectContaining({
        service: 'rds',
        arn: expect.stringMatching(/:db:orders-db$/),
        value: 'daily',
      }),
      expect.objectContaining({
        service: 'rds',
        arn: expect.stringMatching(/:cluster:billing$/),
        value: 'daily',
      }),
      expect.objectContaining({
        service: 'elasticache',
        arn: expect.stringMatching(/:replicationgroup:sessions-redis$/),
        value: 'cache',
      }),
    ]);
    expect(text).not.toContain('billing-1');
    const written = readStageFile(join(dir, 'steward.acme.yaml'));
    expect(written.ok && written.config.dryRun).toBe(true);
    expect(written.ok && written.config.backup.policies.daily!.schedule).toBe('cron(0 4 * * ? *)');

    // Act: run the printed commands (through the SDK, as the aws CLI would), then init again
    for (const c of commands.map((l) => parseCommand(l))) {
      const Tags = [{ Key: c.key, Value: c.value }];
      await (c.service === 'rds'
        ? rds.send(new AddTagsToResourceCommand({ ResourceName: c.arn, Tags }))
        : cache.send(new AddCacheTags({ ResourceName: c.arn, Tags })));
    }
    const again: string[] = [];
    const code2 = await main(
      ['init', '--stage', 'acme', '--config', dir, '--region', REGION, '--all', '--force'],
      (s) => again.push(s),
    );

    // Assert: everything is opted in now, so nothing is left to tag
    expect(code2).toBe(0);
    expect(
      again
        .join('\n')
        .split('\n')
        .filter((l) => l.trim().startsWith('aws ')),
    ).toEqual([]);
    expect(again.join('\n')).toMatch(/orders-db\s+postgres\s+7 d, 02:30-03:00 UTC\s+daily/);
  });
});
