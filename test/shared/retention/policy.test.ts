import { describe, expect, it } from 'vitest';
import type { StewardConfigInput } from '../../../shared/config/schema.js';
import { loadExample } from '../../support/examples.js';
import { EventShapeError } from '../../../shared/errors.js';
import type { Snapshot } from '../../../shared/model.js';
import { parseInventory } from '../../../shared/retention/inventory.js';
import {
  planRetentionFor,
  retentionPolicyResolver,
  retentionRegions,
} from '../../../shared/retention/policy.js';
import { Tag } from '../../../shared/tags.js';
import { NOW, retentionTestConfig, sampleInventory } from '../../fakes/retention-fixtures.js';

const tagged = (policy: string | undefined): Snapshot => ({
  kind: 'rds-instance',
  id: 'steward-orders-db-202611220300-sched',
  arn: 'arn:aws:rds:eu-west-1:111122223333:snapshot:steward-orders-db-202611220300-sched',
  region: 'eu-west-1',
  sourceId: 'orders-db',
  createdAt: '2026-11-22T03:00:00Z',
  status: 'available',
  type: 'manual',
  tags: policy === undefined ? { [Tag.managed]: 'true' } : { [Tag.managed]: 'true', [Tag.policy]: policy },
});

describe('retentionPolicyResolver', () => {
  const config = retentionTestConfig();

  it('follows steward:policy to the backup policy and on to its retention policy', () => {
    // Prepare
    const resolve = retentionPolicyResolver(config);

    // Act
    const resolved = resolve(tagged('cache'));

    // Assert
    expect(resolved).toEqual({
      name: 'cache',
      policy: { daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 3 },
    });
  });

  it.each([undefined, 'hourly', 'standard', 'constructor', '__proto__', 'toString'])(
    'resolves nothing for steward:policy=%s',
    (policy) => {
      // Prepare
      const resolve = retentionPolicyResolver(config);

      // Act
      const resolved = resolve(tagged(policy));

      // Assert
      expect(resolved).toBeUndefined();
    },
  );
});

describe('retentionRegions', () => {
  const base: StewardConfigInput = { stage: 'staging', region: 'eu-west-1' };
  const copying = {
    backup: { policies: { daily: { copyToDr: true } } },
    dr: { region: 'us-west-2', kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr' },
  };

  it.each<[string, Partial<StewardConfigInput>, string[]]>([
    ['a policy copies to DR and DR is included', copying, ['eu-west-1', 'us-west-2']],
    ['DR is excluded', { ...copying, retention: { includeDrRegion: false } }, ['eu-west-1']],
    ['no policy copies to DR', {}, ['eu-west-1']],
  ])('when %s sweeps %j', (_, overrides, regions) => {
    // Prepare
    const config = retentionTestConfig({
      ...base,
      backup: { policies: { daily: {} } },
      retention: {},
      dr: {},
      ...overrides,
    });

    // Act
    const swept = retentionRegions(config);

    // Assert
    expect(swept).toEqual(regions);
  });
});

describe('planRetentionFor the sample inventory', () => {
  it('under the prod config keeps 30 days of RDS snapshots and expires only cache extras and a passed pre-change', () => {
    // Prepare
    const config = loadExample('prod');

    // Act
    const plan = planRetentionFor(sampleInventory(), config, NOW);

    // Assert
    expect(plan.delete.map((s) => s.id)).toEqual([
      'steward-orders-db-202608031005-adhoc',
      'steward-sessions-redis-202611110300-sched',
      'steward-sessions-redis-202611120300-sched',
      'steward-sessions-redis-202611130300-sched',
      'steward-sessions-redis-202611140300-sched',
      'steward-sessions-redis-202611150300-sched',
    ]);
    expect(plan.summary).toMatchObject({ total: 68, skip: 9, expire: 6, defer: 0, doubt: 2 });
  });

  it('explains every verdict with a rule and a reason', () => {
    // Prepare
    const config = retentionTestConfig();

    // Act
    const plan = planRetentionFor(sampleInventory(), config, NOW);

    // Assert
    expect(plan.summary.byRule).toEqual({
      automated: 3,
      'not-ours': 3,
      'not-available': 2,
      'on-hold': 1,
      'unknown-policy': 1,
      'bad-retain-until': 1,
      'retain-until': 1,
      'retain-until-passed': 1,
      daily: 31,
      weekly: 7,
      gfs: 13,
      // Expired, but the only snapshot of their day, and the DR region has no copy of it.
      'awaiting-dr': 4,
    });
    expect(plan.verdicts.every((v) => v.reason.length > 0)).toBe(true);
  });
});

describe('parseInventory', () => {
  it('accepts the sample inventory', () => {
    // Prepare / Act
    const snaps = sampleInventory();

    // Assert
    expect(snaps).toHaveLength(68);
    expect(new Set(snaps.map((s) => s.region))).toEqual(new Set(['eu-west-1', 'us-west-2']));
  });

  it('names the entry and fields of a malformed snapshot', () => {
    // Prepare
    const [first, second] = sampleInventory();
    const broken = [first, { ...second, type: 'snapshot', tags: undefined }];

    // Act
    const parse = () => parseInventory(broken, 'inventory.json');

    // Assert
    expect(parse).toThrow(EventShapeError);
    expect(parse).toThrow(/Invalid snapshot inventory \(inventory.json\): 1\.type: .*; 1\.tags: /);
  });

  it('rejects a snapshot listed twice, naming both entries', () => {
    // Prepare
    const [first, second] = sampleInventory();

    // Act
    const parse = () => parseInventory([first, second, first], 'inventory.json');

    // Assert
    expect(parse).toThrow(
      '2.id: repeats eu-west-1/rds-instance/steward-orders-db-202412310300-sched from entry 0',
    );
  });
});
