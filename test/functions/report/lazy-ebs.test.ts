import { DescribeInstancesCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { awsEstate } from '../../../functions/report/handler.js';
import type { StewardConfig } from '../../../shared/config/schema.js';
import { loadExample } from '../../support/examples.js';
import { splitBuildModules } from '../../support/split-build.js';

// The report function reads EC2 instances, volumes and EBS sets only when a policy backs EBS up. The EBS
// adapter (and EC2's client, which its module brings) is loaded by the first EBS read, so the daily status
// check of a stage without EBS parses neither; a stage with EBS still reads them.

const { loaded } = vi.hoisted(() => ({ loaded: new Set<string>() }));
vi.mock('../../../shared/aws/ebs.js', async (real) => (loaded.add('ebs'), real()));

const rds = mockClient(RDSClient);
const elastiCache = mockClient(ElastiCacheClient);
const ec2 = mockClient(EC2Client);
const NOW = new Date('2026-12-01T06:00:00Z');

/** The prod example with one more policy that backs EBS up. */
const withEbs = (config: StewardConfig): StewardConfig => {
  const [name, policy] = Object.entries(config.backup.policies)[0]!;
  return {
    ...config,
    backup: {
      ...config.backup,
      policies: { ...config.backup.policies, [`${name}-ebs`]: { ...policy, kinds: ['ebs'] } },
    },
  };
};

beforeEach(() => {
  rds.reset().onAnyCommand().resolves({});
  elastiCache.reset().onAnyCommand().resolves({});
  ec2.reset().onAnyCommand().resolves({});
});

// In order: a module stays imported for the rest of the file.
describe("the report function's estate reads EBS only for a stage that backs EBS up", () => {
  it('a stage without EBS reads its databases without loading the EBS adapter or sending to EC2', async () => {
    // Arrange
    const config = loadExample('prod');

    // Act
    const databases = await awsEstate(
      config,
      'steward-prod-reports',
      undefined,
      () => NOW,
    ).primary.databases();

    // Assert
    expect(databases).toEqual([]);
    expect([...loaded]).toEqual([]);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('a stage with an EBS policy loads the adapter at its first read and lists tagged instances and volumes', async () => {
    // Arrange
    const config = withEbs(loadExample('prod'));

    // Act
    const estate = awsEstate(config, 'steward-prod-reports', undefined, () => NOW);
    const databases = await estate.primary.databases();

    // Assert
    expect(databases).toEqual([]);
    expect([...loaded]).toEqual(['ebs']);
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(1);
    expect(ec2.commandCalls(DescribeVolumesCommand)).toHaveLength(1);
  });
});

describe('the report bundle, split at its dynamic imports', () => {
  it('keeps the EBS adapter and EC2 client out of the chunks its entry loads, and still ships them', async () => {
    // Act
    const { cold, shipped } = await splitBuildModules('functions/report/handler.ts');

    // Assert
    expect(cold.has('shared/report/status.ts')).toBe(true);
    expect(cold.has('shared/aws/ebs.ts')).toBe(false);
    expect([...cold].filter((m) => m.includes('client-ec2'))).toEqual([]);
    expect(shipped.has('shared/aws/ebs.ts')).toBe(true);
    expect([...shipped].some((m) => m.includes('client-ec2'))).toBe(true);
  });
});
