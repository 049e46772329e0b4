import type { BackupOutcome, RetentionOutcome } from './ebs/simulate.js';
import { retentionRunTimeRow } from './retention.js';
import { inFreshProcess } from './support/fresh-process.js';
import type { BenchRow } from './stats.js';

// A set costs its create plus a share of the listings and of the batched look-up of existing sets (20 set
// ids a request): 10 % over the minimum covers the look-up; one look-up per set (2×) must not pass.
const CALLS_MAX_RATIO = 1.1;

const backup = (n: number, perSetLookup = false) =>
  inFreshProcess('EBS backup simulation', 'bench/ebs/worker.ts', {
    kind: 'backup',
    n,
    perSetLookup,
  }) as BackupOutcome;
const retention = (n: number, short = false) =>
  inFreshProcess('EBS retention simulation', 'bench/ebs/worker.ts', {
    kind: 'retention',
    n,
    ...(short && { policy: { daily: 29, weekly: 8, monthly: 12, yearly: 3, keepAtLeast: 7 } }),
  }) as RetentionOutcome;

/**
 * EBS on the fake AWS, through the backup and retention functions' own `run` and `wire`: EC2 requests per
 * backed-up instance against the fewest the run needs (listing pages and one create per set, computed from the
 * estate alone), and retention over `snapshots` EBS snapshots (sets of two volumes): requests against the
 * minimum, instances exactly at policy with no set left half-deleted, held sets and AWS-made snapshots
 * untouched, run time. Self-tests: one look-up per set must turn the calls row red, a policy one daily short
 * the policy row.
 */
export const benchEbs = (instances: number, snapshots: number): BenchRow[] => {
  const b = backup(instances);
  const perSet = backup(instances, true);
  const r = retention(snapshots);
  const short = retention(snapshots, true);
  const callsRow = (o: BackupOutcome) => ({
    value: (o.calls / (o.instances + o.volumes)).toFixed(3),
    baseline: `${(o.minimum / (o.instances + o.volumes)).toFixed(3)} minimum`,
    ratio: o.calls / o.minimum,
    ok: o.calls <= o.minimum * CALLS_MAX_RATIO,
  });
  const ops = (o: BackupOutcome) =>
    Object.entries(o.byOp)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ');
  const bench = `ebs backup, ${b.instances} instances x 2 volumes + ${b.volumes} volumes`;
  const rbench = `ebs retention, ${r.instances} instances, ${r.snapshots.toLocaleString('en')} snapshots`;
  const policyRow = (o: RetentionOutcome) => ({
    value: `${o.atPolicy}/${o.instances}`,
    baseline: 'every instance',
    ratio: o.atPolicy / o.instances,
    ok: o.atPolicy === o.instances && o.partial === 0 && o.untouchableLost === 0,
  });
  return [
    {
      bench,
      metric: `EC2 requests per set (${ops(b)}; ${b.sets} sets)`,
      ...callsRow(b),
      target: `≤ ${CALLS_MAX_RATIO}× minimum (listing pages + one create per set)`,
    },
    {
      bench: `${bench}, self-test`,
      metric: `one look-up per set: the requests row (${ops(perSet)})`,
      ...callsRow(perSet),
      target: `> ${CALLS_MAX_RATIO}× (must go red)`,
      ok: !callsRow(perSet).ok,
    },
    {
      bench: rbench,
      metric: `requests, retries included (${r.deleted} deletes)`,
      value: String(r.calls),
      baseline: `${r.minimum} minimum`,
      ratio: r.calls / r.minimum,
      target: '≤ minimum (listing pages + one delete per volume of each expired set)',
      ok: r.calls <= r.minimum,
    },
    {
      bench: rbench,
      metric: `instances exactly at policy (${r.partial} snapshots of half-deleted sets; ${r.untouchableLost} held or AWS-made sets lost)`,
      ...policyRow(r),
      target: 'all, no set split, none held or foreign lost',
    },
    retentionRunTimeRow(rbench, r.seconds),
    {
      bench: `${rbench}, self-test`,
      metric: 'the engine keeps 29 dailies, the check 30: the policy row',
      ...policyRow(short),
      target: 'not all (must go red)',
      ok: !policyRow(short).ok,
    },
  ];
};
