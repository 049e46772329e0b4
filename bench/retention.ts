import { type Injection, type Outcome, POLICIES } from './retention/simulate.js';
import { inFreshProcess } from './support/fresh-process.js';
import { type BenchRow, median, pairedRatio } from './stats.js';

const TIMEOUT_S = 600; // infra/retention.ts
// The engine judges the inventory twice (now, and as it stood a day earlier for the deletion allowance) and
// writes a verdict with its reason for every snapshot; the minimal plan judges once and writes nothing.
const PLAN_MAX_RATIO = 3;

/** One simulation in a fresh process (bench/retention/worker.ts): fresh SDK clients, pacers and clock. */
const simulate = (n: number, planRuns: number, inject: Injection = {}): Outcome =>
  inFreshProcess('retention simulation', 'bench/retention/worker.ts', { n, planRuns, inject }) as Outcome;

/**
 * Retention over about `n` snapshots (RDS instances, Aurora clusters, ElastiCache, some held, some not
 * steward's) on a fake AWS that pages, answers slowly and throttles at RDS's rate: requests against the
 * minimum and snapshots left against the policy, both computed from the history and the policy without
 * steward's engine, the run's (simulated) duration, and planning CPU time. Self-tests: an extra listing
 * must turn the calls row red, every request 20 times slower the run-time row, a policy one daily short
 * the policy row, the plan made twice the planning row. Planning CPU is a ratio to a minimal plan of the
 * same listing (bench/retention/simulate.ts `minimalPlan`), each sample paired with the engine's in the same
 * process, so a loaded machine slows both.
 */
/** The run-time row of a simulated retention run: under half the function's timeout. */
export const retentionRunTimeRow = (bench: string, seconds: number): BenchRow => ({
  bench,
  metric: 'run time, s (simulated: latency, pacing, back-off)',
  value: seconds.toFixed(1),
  baseline: `${TIMEOUT_S / 2} s = half of ${TIMEOUT_S} s`,
  ratio: seconds / (TIMEOUT_S / 2),
  target: '< half the timeout',
  ok: seconds < TIMEOUT_S / 2,
});

export const benchRetention = async (n: number, runs: number): Promise<BenchRow[]> => {
  const r = simulate(n, runs);
  const extra = simulate(n, 0, { extraListing: true });
  const slow = simulate(n, 0, { latencyFactor: 20 });
  const twice = simulate(n, runs, { planTwice: true });
  const short = simulate(n, 0, {
    policies: { ...POLICIES, standard: { ...POLICIES.standard!, daily: 29 } },
  });
  const bench = `retention ${r.databases} databases, ${n.toLocaleString('en')} snapshots`;
  const callsRow = (o: Outcome) => ({
    value: String(o.calls),
    baseline: `${o.minimum} minimum`,
    ratio: o.calls / o.minimum,
    ok: o.calls <= o.minimum,
  });
  const policyRow = (o: Outcome) => ({
    value: `${o.atPolicy}/${o.databases}`,
    baseline: `${o.expires} due by the policy`,
    ratio: o.atPolicy / o.databases,
    ok: o.atPolicy === o.databases && o.untouchableLost === 0,
  });
  const planRow = (o: Outcome) => {
    const ratio = pairedRatio(o.planMs, o.minimalMs);
    return {
      value: median(o.planMs).toFixed(1),
      baseline: `${median(o.minimalMs).toFixed(1)} minimal plan`,
      ratio,
      ok: ratio <= PLAN_MAX_RATIO,
    };
  };
  return [
    {
      bench,
      metric: `RDS, ElastiCache, tagging and EC2 requests, retries included (${r.throttled} throttled; ${r.dynamodb} DynamoDB for the day's budget)`,
      ...callsRow(r),
      target: '≤ minimum (listing pages + one delete per expired snapshot)',
    },
    {
      bench,
      metric: `databases exactly at policy after the run (${r.deleted} deleted; steward: ${r.allowance.expired} expired, ${r.allowance.due} due in 48 h, ${r.allowance.allowed} allowed; ${r.untouchableLost} held or not steward's lost)`,
      ...policyRow(r),
      target: 'all, none held or foreign lost',
    },
    retentionRunTimeRow(bench, r.seconds),
    {
      bench,
      metric: `planning CPU ms vs a minimal plan of the same listing (median of ${runs} paired ratios)`,
      ...planRow(r),
      target: `≤ ${PLAN_MAX_RATIO}× (two judgements + verdicts)`,
    },
    {
      bench: `${bench}, self-test`,
      metric: 'an extra listing of every region: the requests row',
      ...callsRow(extra),
      target: '> minimum (must go red)',
      ok: !callsRow(extra).ok,
    },
    {
      bench: `${bench}, self-test`,
      metric: 'every request 20 times slower: the run-time row',
      value: slow.seconds.toFixed(1),
      baseline: `${TIMEOUT_S / 2} s = half of ${TIMEOUT_S} s`,
      ratio: slow.seconds / (TIMEOUT_S / 2),
      target: '≥ half the timeout (must go red)',
      ok: slow.seconds >= TIMEOUT_S / 2,
    },
    {
      bench: `${bench}, self-test`,
      metric: 'every plan made twice: the planning row',
      ...planRow(twice),
      target: `> ${PLAN_MAX_RATIO}× (must go red)`,
      ok: !planRow(twice).ok,
    },
    {
      bench: `${bench}, self-test`,
      metric: 'the engine keeps 29 dailies, the check 30: the policy row',
      ...policyRow(short),
      target: 'not all (must go red)',
      ok: !policyRow(short).ok,
    },
  ];
};
