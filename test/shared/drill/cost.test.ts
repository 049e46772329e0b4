import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
import {
  drillCost,
  instancePrice,
  PRICE_LIST,
  type RestoreShape,
  withinCeiling,
} from '../../../shared/drill/cost.js';
import { describeShape, restoreOverrides, restoreShape } from '../../../shared/drill/shape.js';

const shape = (over: Partial<RestoreShape> = {}): RestoreShape => ({
  kind: 'rds-instance',
  instanceClass: 'db.r6g.xlarge',
  instanceClassFrom: 'source',
  instances: 1,
  storageType: 'gp3',
  allocatedGb: 730,
  ...over,
});
const T0 = '2026-03-01T05:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

describe('drillCost', () => {
  it('bills instances from availability, storage from the request, at list prices, and says it is an estimate', () => {
    // Act: requested at 0, available at 10 min, deleted at 70 min.
    const c = drillCost(shape(), { requestedAt: T0, availableAt: at(10), until: at(70) });

    // Assert: 1 h of db.r6g.xlarge ($0.45/h); 730 GB gp3 at $0.115/GB-month ($0.115/h) for 70 min.
    expect(c).toMatchObject({
      instanceHours: 1,
      storageHours: 1.1667,
      instanceUsdPerHour: 0.45,
      breakdown: { instanceUsd: 0.45, storageUsd: 0.1342, iopsUsd: 0, throughputUsd: 0 },
      estimatedUsd: 0.58,
      estimate: true,
    });
    expect(c.priceSource).toBe(PRICE_LIST.source);
    expect(c.notes).toEqual([]);
  });

  it('charges at least 10 minutes per instance, as RDS does, for every Aurora instance', () => {
    // Act: an Aurora cluster of 3 instances, available for 2 minutes.
    const c = drillCost(
      shape({ kind: 'aurora-cluster', instanceClass: 'db.r6g.large', instances: 3, storageType: 'aurora' }),
      { requestedAt: T0, availableAt: at(20), until: at(22) },
    );

    // Assert
    expect(c.instanceHours).toBe(0.5);
    expect(c.instanceUsdPerHour).toBe(0.26);
    expect(c.notes).toContain('Aurora I/O requests not included');
  });

  it('prices gp3 IOPS and throughput above the included baseline, io1 IOPS in full', () => {
    // Act: a month of storage.
    const month = {
      requestedAt: T0,
      availableAt: T0,
      until: new Date(Date.parse(T0) + 730 * 3_600_000).toISOString(),
    };
    const gp3 = drillCost(shape({ iops: 16_000, storageThroughputMiBps: 1000 }), month);
    const io1 = drillCost(shape({ storageType: 'io1', allocatedGb: 100, iops: 5000 }), month);

    // Assert: 4000 IOPS × $0.02 and 500 MiB/s × $0.08 over the 12 000 / 500 of a ≥ 400 GB volume.
    expect(gp3.breakdown).toMatchObject({ iopsUsd: 80, throughputUsd: 40 });
    expect(io1.breakdown).toMatchObject({ storageUsd: 12.5, iopsUsd: 500 });
  });

  it('uses the configured prices and multiplier, and cannot price an unknown class', () => {
    // Act
    const override = instancePrice(shape({ instanceClass: 'db.x2g.large' }), {
      instanceUsdPerHour: { 'db.x2g.large': 0.41 },
    });
    const regional = instancePrice(shape(), { multiplier: 1.2 });
    const unknown = drillCost(shape({ instanceClass: 'db.x2g.large' }), { requestedAt: T0, until: at(5) });

    // Assert
    expect(override).toBe(0.41);
    expect(regional).toBe(0.54);
    expect(unknown.estimatedUsd).toBeUndefined();
    expect(unknown.notes[0]).toBe(
      'no price for db.x2g.large (rds-instance): set drill.prices.instanceUsdPerHour',
    );
  });

  it('never costs less for a longer drill', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (a, b) => {
        const cost = (m: number) =>
          drillCost(shape(), { requestedAt: T0, availableAt: T0, until: at(m) }).estimatedUsd!;
        expect(cost(Math.max(a, b))).toBeGreaterThanOrEqual(cost(Math.min(a, b)));
      }),
    );
  });
});

describe('withinCeiling', () => {
  it('allows going on while the projected cost, deletion included, stays under the ceiling', () => {
    // Act: $0.45/h instance + $0.115/h storage; going on to 60 min, +10 min to delete = 70 min.
    const v = withinCeiling(shape(), { requestedAt: T0, availableAt: T0 }, new Date(at(60)), {}, 1);
    const over = withinCeiling(shape(), { requestedAt: T0, availableAt: T0 }, new Date(at(120)), {}, 1);

    // Assert
    expect(v).toEqual({ ok: true, projectedUsd: 0.66 });
    expect(over).toEqual({
      ok: false,
      projectedUsd: 1.22,
      reason: 'going on would cost about $1.22 (with 10 min to delete), over the $1 ceiling',
    });
    expect(withinCeiling(shape(), { requestedAt: T0 }, new Date(at(10_000)), {}, undefined)).toEqual({
      ok: true,
    });
  });

  it('refuses to go on under a ceiling it cannot keep: no price for the class', () => {
    expect(
      withinCeiling(shape({ instanceClass: 'db.z9.huge' }), { requestedAt: T0 }, new Date(at(1)), {}, 100),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^cost ceiling \$100 cannot be kept: no price for db\.z9\.huge/),
    });
  });
});

describe('restoreShape', () => {
  const target = (restore: object, kind: 'rds-instance' | 'aurora-cluster' = 'rds-instance') =>
    parseConfig(
      {
        stage: 't',
        region: 'eu-west-1',
        drill: { enabled: true, targets: { db: { kind, profile: { database: 'x' }, restore } } },
      },
      't',
    ).drill.targets.db!.restore;

  it("restores on the source's class and storage by default", () => {
    // Act
    const s = restoreShape('rds-instance', target({}), {
      instanceClass: 'db.r6g.2xlarge',
      storageType: 'io1',
      allocatedGb: 2000,
      iops: 20_000,
    });
    // Assert
    expect(s).toEqual({
      kind: 'rds-instance',
      instanceClass: 'db.r6g.2xlarge',
      instanceClassFrom: 'source',
      sourceInstanceClass: 'db.r6g.2xlarge',
      instances: 1,
      storageType: 'io1',
      allocatedGb: 2000,
      iops: 20_000,
    });
    expect(restoreOverrides(target({}))).toEqual({});
    expect(describeShape(s)).toBe("db.r6g.2xlarge (the source's class), io1 2000 GB 20000 IOPS");
  });

  it('states a configured cheaper class next to the source one, and drops IOPS that do not carry over', () => {
    // Act
    const s = restoreShape('rds-instance', target({ instanceClass: 'db.r6g.large', storageType: 'gp3' }), {
      instanceClass: 'db.r6g.2xlarge',
      storageType: 'io1',
      allocatedGb: 2000,
      iops: 20_000,
    });
    // Assert
    expect(s).toMatchObject({
      instanceClass: 'db.r6g.large',
      instanceClassFrom: 'config',
      storageType: 'gp3',
    });
    expect(s.iops).toBeUndefined();
    expect(describeShape(s)).toBe('db.r6g.large (configured; source db.r6g.2xlarge), gp3 2000 GB');
  });

  it('falls back to the smallest class when the source is gone, and counts Aurora instances', () => {
    // Act
    const gone = restoreShape('rds-instance', target({}), undefined);
    const aurora = restoreShape(
      'aurora-cluster',
      target({ instances: 3, storageType: 'aurora-iopt1' }, 'aurora-cluster'),
      { instanceClass: 'db.r7g.xlarge', instances: 2, storageType: 'aurora' },
    );
    // Assert
    expect(gone).toMatchObject({ instanceClass: 'db.t4g.micro', instanceClassFrom: 'default' });
    expect(describeShape(gone)).toBe('db.t4g.micro (source class unknown: the smallest)');
    expect(aurora).toMatchObject({
      instanceClass: 'db.r7g.xlarge',
      instances: 3,
      storageType: 'aurora-iopt1',
    });
    expect(instancePrice(aurora)).toBe(0.7176);
  });
});
