import { run as runBackup, wire as wireBackup } from '../../functions/backup/handler.js';
import { run as runRetention, wire as wireRetention } from '../../functions/retention/handler.js';
import { ec2Client } from '../../shared/aws/clients/ec2.js';
import { elastiCacheClient } from '../../shared/aws/clients/elasticache.js';
import { rdsClient } from '../../shared/aws/clients/rds.js';
import { taggingClient } from '../../shared/aws/clients/tagging.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { snapshotId } from '../../shared/backup/ids.js';
import { parseConfig, type RetentionPolicy, type StewardConfig } from '../../shared/config/schema.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import type { BaseDeps } from '../../shared/runtime.js';
import { Tag } from '../../shared/tags.js';
import { SimClock } from '../estate/clock.js';
import { pages, policyKeeps } from '../estate/expected.js';
import { FakeAws } from '../estate/fake-aws.js';
import { offlineAws } from '../estate/offline-aws.js';
import { drive } from '../retention/simulate.js';

const DAY = 86_400_000;
const REGION = 'eu-west-1';
const NOW = Date.UTC(2026, 10, 23, 4, 30);
const POLICY: RetentionPolicy = { daily: 30, weekly: 8, monthly: 12, yearly: 3, keepAtLeast: 7 };
/** Volumes per instance in both simulations (a root and a data volume). */
const VOLUMES = 2;

const configFor = (): StewardConfig =>
  parseConfig(
    {
      stage: 'prod',
      region: REGION,
      backup: { policies: { daily: { kinds: ['ebs'], retention: 'standard' } } },
      retention: { includeDrRegion: false, policies: { standard: POLICY } },
    },
    'bench',
  );

/** Every client the backup and retention functions build, answered by the fake. */
const attachAll = (fake: FakeAws) => {
  for (const c of [
    rdsClient(REGION),
    elastiCacheClient(REGION),
    taggingClient(REGION),
    ec2Client(REGION),
    stateTableClient(REGION),
  ])
    fake.attach(c as never, REGION);
};

const base = (config: StewardConfig): BaseDeps => ({
  config,
  dryRun: false,
  notifier: memoryNotifier(),
  now: () => new Date(Date.now()),
});

export interface BackupOutcome {
  instances: number;
  volumes: number;
  /** EC2 requests of the run (throttled ones included), and the fewest it needs. */
  calls: number;
  minimum: number;
  byOp: Record<string, number>;
  sets: number;
}

/**
 * One scheduled EBS backup through the function's own `run` and `wire` over the fake AWS: `instances`
 * instances of two volumes and `instances / 10` lone volumes, all tagged. The minimum, from the estate alone:
 * the listing pages (DescribeInstances 1 000 a page, DescribeVolumes 500) and one create per set.
 * `perSetLookup` (the self-test) takes away the run's batched look-up of existing sets.
 */
export const simulateEbsBackup = async (instances: number, perSetLookup = false): Promise<BackupOutcome> => {
  const clock = new SimClock(NOW);
  const fake = new FakeAws({ clock });
  const lone = Math.floor(instances / 10);
  for (let i = 0; i < instances; i++)
    fake.seedEc2(REGION, {
      id: `i-${i.toString(16).padStart(17, '0')}`,
      volumes: Array.from({ length: VOLUMES }, (_, v) => `vol-${i.toString(16).padStart(15, '0')}${v}0`),
      tags: { [Tag.backup]: 'daily' },
      instance: true,
    });
  for (let i = 0; i < lone; i++) {
    const id = `vol-${(i + 1).toString(16).padStart(15, '0')}ff`;
    fake.seedEc2(REGION, { id, volumes: [id], tags: { [Tag.backup]: 'daily' }, instance: false });
  }
  const restore = offlineAws('ASIABENCHEBSBACKUP00');
  clock.install();
  try {
    const deps = wireBackup(base(configFor()), {});
    attachAll(fake);
    if (perSetLookup) delete (deps.primary as { takenSets?: unknown }).takenSets;
    await drive(clock, () =>
      runBackup(
        {
          action: 'scheduled-backup',
          policy: 'daily',
          scheduledTime: new Date(NOW - 90 * 60_000).toISOString(),
        },
        deps,
      ),
    );
    const ec2 = fake.calls.filter((c) => c.service === 'ec2');
    const byOp: Record<string, number> = {};
    for (const c of ec2) byOp[c.op] = (byOp[c.op] ?? 0) + 1;
    return {
      instances,
      volumes: lone,
      calls: ec2.length,
      minimum: pages(instances, 1000) + pages(lone, 500) + instances + lone,
      byOp,
      sets: new Set(fake.ebsSnapshotsIn(REGION).map((s) => s.tags[Tag.set])).size,
    };
  } finally {
    clock.uninstall();
    restore();
  }
};

export interface RetentionOutcome {
  snapshots: number;
  instances: number;
  calls: number;
  minimum: number;
  /** Instances whose sets are exactly what the policy keeps, every part of each set present or gone together. */
  atPolicy: number;
  /** Snapshots left that are part of a set the run deleted partly. */
  partial: number;
  untouchableLost: number;
  deleted: number;
  seconds: number;
}

/**
 * Retention over at least `n` EBS snapshots (sets of two volumes, one per instance a day for 400 days, reduced
 * to what yesterday's run kept, plus last night's; every 25th day held; every 50th day a DLM snapshot that
 * carries a copied `steward:set` tag and must never be touched). The minimum, from the estate and the policy
 * alone: the RDS and ElastiCache listings (one empty page each), the EBS listing pages (1 000 a page) and one
 * DeleteSnapshot per volume of each set the policy expires.
 */
export const simulateEbsRetention = async (
  n: number,
  policy: RetentionPolicy = POLICY,
): Promise<RetentionOutcome> => {
  const clock = new SimClock(NOW);
  const fake = new FakeAws({ clock });
  const managed = new Map<string, number[]>();
  const untouchable = new Map<string, string[]>();
  let total = 0;
  let instances = 0;
  for (let i = 0; total < n; i++, instances++) {
    const id = `i-${i.toString(16).padStart(17, '0')}`;
    const takenAt = (d: number) => NOW - d * DAY - 90 * 60_000 + ((i * 7 + d) % 60) * 60_000;
    const held = (d: number) => (i + d) % 25 === 0;
    const days = Array.from({ length: 400 }, (_, d) => d);
    const kept = policyKeeps(days.filter((d) => d >= 1 && !held(d)).map(takenAt), POLICY);
    for (const d of days) {
      const t = takenAt(d);
      const set = snapshotId(id, new Date(t), 'sched');
      if (d === 0 || held(d) || kept.has(t)) {
        for (let v = 0; v < VOLUMES; v++)
          fake.seedEbsSnapshot(REGION, {
            id: `snap-${i.toString(16).padStart(8, '0')}${d.toString(16).padStart(4, '0')}${v}`,
            volumeId: `vol-${i}-${v}`,
            takenAt: t,
            description: `steward ${set}`,
            tags: {
              [Tag.managed]: 'true',
              [Tag.policy]: 'daily',
              [Tag.source]: id,
              [Tag.set]: set,
              [Tag.setSize]: String(VOLUMES),
              // The hold on one part only: it must hold the whole set.
              ...(held(d) && v === 1 ? { [Tag.hold]: 'legal' } : {}),
            },
          });
        if (!held(d)) managed.set(id, [...(managed.get(id) ?? []), t]);
        else untouchable.set(id, [...(untouchable.get(id) ?? []), set]);
        total += VOLUMES;
      }
      if ((i + d) % 50 === 1) {
        const dlm = `dlm-${set}`;
        fake.seedEbsSnapshot(REGION, {
          id: `snap-d${i.toString(16).padStart(8, '0')}${d.toString(16).padStart(4, '0')}`,
          volumeId: `vol-${i}-0`,
          takenAt: t + 5 * 60_000,
          tags: {
            'aws:dlm:lifecycle-policy-id': 'policy-0123456789abcdef0',
            [Tag.managed]: 'true',
            [Tag.source]: id,
            [Tag.set]: dlm,
          },
        });
        untouchable.set(id, [...(untouchable.get(id) ?? []), dlm]);
        total++;
      }
    }
  }
  const config = { ...configFor(), retention: { ...configFor().retention, policies: { standard: policy } } };
  const restore = offlineAws('ASIABENCHEBSRETENT00');
  clock.install();
  try {
    const deps = wireRetention(base(config), { STATE_TABLE: 'steward-prod-state' });
    attachAll(fake);
    const started = clock.now;
    await drive(clock, () =>
      runRetention({ action: 'retention', scheduledTime: new Date(NOW).toISOString() }, deps),
    );
    const seconds = (clock.now - started) / 1000;
    const api = fake.calls.filter((c) => c.service !== 'dynamodb');
    const expires = [...managed.values()].reduce(
      (a, times) => a + times.length - policyKeeps(times, POLICY).size,
      0,
    );
    // What is left, per set: its parts.
    const left = new Map<string, number>();
    for (const s of fake.ebsSnapshotsIn(REGION)) left.set(s.sourceId, (left.get(s.sourceId) ?? 0) + 1);
    let atPolicy = 0;
    let partial = 0;
    let untouchableLost = 0;
    for (let i = 0; i < instances; i++) {
      const id = `i-${i.toString(16).padStart(17, '0')}`;
      const times = managed.get(id) ?? [];
      const keep = policyKeeps(times, POLICY);
      const ok = times.every((t) => {
        const parts = left.get(snapshotId(id, new Date(t), 'sched')) ?? 0;
        if (parts !== 0 && parts !== VOLUMES) partial += parts;
        return keep.has(t) ? parts === VOLUMES : parts === 0;
      });
      if (ok) atPolicy++;
      untouchableLost += (untouchable.get(id) ?? []).filter((set) => !left.has(set)).length;
    }
    return {
      snapshots: total,
      instances,
      calls: api.length,
      minimum: pages(0, 100) + pages(0, 100) + pages(0, 50) + pages(total, 1000) + expires * VOLUMES,
      atPolicy,
      partial,
      untouchableLost,
      deleted: api.filter((c) => c.op === 'DeleteSnapshot' && !c.throttled).length,
      seconds,
    };
  } finally {
    clock.uninstall();
    restore();
  }
};
