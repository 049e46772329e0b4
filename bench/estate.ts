import { type EstateResult, type EstateSpec, spread } from './estate/simulate.js';
import { inFreshProcess } from './support/fresh-process.js';
import { median, type BenchRow } from './stats.js';

/** Run one simulation in a fresh process (bench/estate/worker.ts) and read its result back. */
export const simulateEstate = (spec: EstateSpec): EstateResult => {
  const raw = inFreshProcess('estate simulation', 'bench/estate/worker.ts', spec, {
    // A larger young generation: the simulation allocates many short-lived objects (SDK requests and
    // pages), and the default one makes the collector run far more often.
    nodeArgs: ['--max-semi-space-size=64'],
  }) as Omit<EstateResult, 'worstLagByDb'> & {
    worstLagByDb: Record<string, number>;
    lagHours: (number | null)[];
  };
  // JSON has no Infinity: a lost snapshot's lag comes back as null.
  return {
    ...raw,
    lagHours: raw.lagHours.map((h) => h ?? Infinity),
    worstLagByDb: new Map(Object.entries(raw.worstLagByDb).map(([k, v]) => [k, v ?? Infinity])),
  };
};

// The deployed functions' timeouts (infra/backup.ts, infra/retention.ts).
const TIMEOUTS = { backup: 300, retention: 600 };

/** 500 databases in one account-region: 420 RDS instances, 30 Aurora clusters, 50 ElastiCache groups. */
export const ESTATE_500: Omit<EstateSpec, 'days' | 'cpuBudgetSeconds'> = {
  instances: 420,
  clusters: 30,
  caches: 50,
  historyDays: 400,
  seed: 11,
  timeouts: TIMEOUTS,
};

const DAY_H = 24;
const fmt = (h: number) => (Number.isFinite(h) ? h.toFixed(1) : 'never');

/** The verdicts of one simulation, as table rows (also what the self-tests read). */
export const estateRows = (r: EstateResult, label: string): BenchRow[] => {
  const { spec } = r;
  const partial = r.stoppedEarly ? ` [${r.stoppedEarly}]` : '';
  const done = !r.stoppedEarly;
  const lag = spread(r.lagHours);
  const worst = [...r.worstLagByDb.entries()].sort((a, b) => b[1] - a[1]);
  const late = worst.filter(([, h]) => h > DAY_H).length;
  const lost = r.lagHours.filter((h) => !Number.isFinite(h)).length;
  const ret = r.retention;
  const ratios = r.callsPerDay.map((d) => d.calls / d.minimum);
  const worstDay = r.callsPerDay[ratios.indexOf(Math.max(...ratios))];
  const throttled = r.callsPerDay.reduce((n, d) => n + d.throttled, 0);
  const rows: BenchRow[] = [
    {
      bench: label,
      metric: `DR lag h p50 / p99 over ${r.lagHours.length} snapshots (${r.lagHours.length - r.neverCopied} copied; ${late} databases over 1 day, ${lost} lost)${partial}`,
      value: `${fmt(lag.p50)} / ${fmt(lag.p99)}`,
      baseline: `24 h (worst ${fmt(worst[0]?.[1] ?? 0)} h)`,
      ratio: Number.isFinite(lag.max) ? lag.max / DAY_H : Infinity,
      target: '≤ 1 day for every database',
      ok: done && r.lagHours.length > 0 && late === 0 && lost === 0,
    },
    {
      bench: label,
      metric: `retention checks at policy, db × region × day (${ret.over} over, ${ret.under} missing, ${ret.heldForDr} held for DR)${partial}`,
      value: `${ret.atPolicy}/${ret.checks}`,
      baseline: 'policy, from the history',
      ratio: ret.checks ? ret.atPolicy / ret.checks : 0,
      target: 'exactly at policy every day',
      ok: done && ret.checks > 0 && ret.atPolicy === ret.checks,
    },
    {
      bench: label,
      metric: `RDS, ElastiCache and tagging calls per day, median (${throttled} throttled in all)${partial}`,
      value: String(median(r.callsPerDay.map((d) => d.calls))),
      baseline: `${median(r.callsPerDay.map((d) => d.minimum))} minimum`,
      ratio: Math.max(...ratios),
      target: `≤ 2× minimum every day (worst ${worstDay ? `${worstDay.calls}/${worstDay.minimum}` : '-'})`,
      ok: done && ratios.length > 0 && ratios.every((x) => x <= 2),
    },
  ];
  for (const fn of ['backup', 'retention'] as const) {
    const runs = r.invocations.filter((i) => i.fn === fn && i.endedAt !== undefined);
    const wall = runs.map((i) => (i.endedAt! - i.startedAt!) / 1000);
    const cpu = runs.map((i) => (i.cpuMs ?? 0) / 1000);
    const total = runs.map((_, k) => wall[k]! + cpu[k]!);
    const worstRun = total.length ? Math.max(...total) : 0;
    const half = spec.timeouts[fn] / 2;
    const failed = runs.filter((i) => i.error).length;
    rows.push({
      bench: label,
      metric: `${fn}: worst of ${runs.length} runs, s (AWS time ${fmt(Math.max(0, ...wall))} + compute ${fmt(Math.max(0, ...cpu))}; ${failed} failed)${partial}`,
      value: worstRun.toFixed(1),
      baseline: `${half} s = half of ${spec.timeouts[fn]} s`,
      ratio: worstRun / half,
      target: '< half the timeout, every run, none failed',
      ok: done && runs.length > 0 && worstRun < half && failed === 0,
    });
  }
  return rows;
};

/**
 * The estate rows: 500 databases over `days` days on the seed config, then two self-tests that break the
 * config on purpose and must turn a row red (DR copies one at a time; a retention cap far below a day's
 * expiry), each over two days. Every simulation runs in a fresh process and stops at its CPU budget.
 */
export const benchEstate = async (
  days: number,
  cpuBudgetSeconds: number,
  selfTestBudgetSeconds: number,
): Promise<BenchRow[]> => {
  const label = `estate 500 databases × ${days} days`;
  const main = simulateEstate({ ...ESTATE_500, days, cpuBudgetSeconds });
  const rows = estateRows(main, label);
  const selfTests: { what: string; spec: Partial<EstateSpec>; row: number }[] = [
    { what: 'DR copies in flight 1', spec: { maxCopiesInFlight: 1 }, row: 0 },
    { what: 'retention cap 20 per run', spec: { retentionCap: 20 }, row: 1 },
  ];
  for (const t of selfTests) {
    // Two days are enough for either break to show; a run cut short by its budget proves nothing.
    const broken = simulateEstate({
      ...ESTATE_500,
      days: Math.min(days, 2),
      cpuBudgetSeconds: selfTestBudgetSeconds,
      ...t.spec,
    });
    const row = estateRows(broken, label)[t.row]!;
    rows.push({
      bench: `${label}, self-test`,
      metric: `${t.what}: the "${row.metric.split(' (')[0]}" row`,
      value: broken.stoppedEarly ? 'stopped early' : row.ok ? 'yes' : 'NO',
      baseline: row.value,
      target: 'NO (the row can fail)',
      ok: !broken.stoppedEarly && !row.ok,
    });
  }
  return rows;
};
