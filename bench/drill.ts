import { main } from '../cli/main.js';
import { type BenchRow, median } from './stats.js';

interface DrillMetricsJson {
  rtoSeconds: number;
  restoreSeconds: number;
  verifySeconds: number;
}

/** One sandbox drill (`npm start -- --size N --json`): its measured RTO split. */
const drillOnce = async (rows: number): Promise<DrillMetricsJson> => {
  const lines: string[] = [];
  const code = await main(['sandbox', '--size', String(rows), '--json'], (s) => lines.push(s));
  const json = JSON.parse(lines.join('\n')) as { report: { metrics?: DrillMetricsJson } };
  if (code !== 0 || !json.report.metrics) throw new Error(`sandbox drill at ${rows} rows did not pass`);
  return json.report.metrics;
};

/**
 * The sandbox drill at two data sizes: restore and verification time, and what the automation itself
 * adds on the recovery path (RTO − restore − verify: state transitions, selection, task plumbing).
 */
export const benchDrill = async (sizes: number[], runs: number): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  for (const size of sizes) {
    const samples: DrillMetricsJson[] = [];
    for (let i = 0; i < runs; i++) samples.push(await drillOnce(size));
    const rto = median(samples.map((m) => m.rtoSeconds));
    const restore = median(samples.map((m) => m.restoreSeconds));
    const verify = median(samples.map((m) => m.verifySeconds));
    const overhead = median(
      samples.map((m) => (m.rtoSeconds - m.restoreSeconds - m.verifySeconds) / m.rtoSeconds),
    );
    const bench = `sandbox drill ${size.toLocaleString('en')} rows`;
    rows.push(
      {
        bench,
        metric: `RTO s (median of ${runs})`,
        value: rto.toFixed(2),
        baseline: `restore ${restore.toFixed(2)} + verify ${verify.toFixed(2)}`,
        ratio: rto / (restore + verify),
        target: '',
        ok: true,
      },
      {
        bench,
        metric: 'automation overhead share of RTO',
        value: `${(overhead * 100).toFixed(1)} %`,
        baseline: 'RTO − restore − verify',
        ratio: overhead,
        target: '≤ 5 %',
        ok: overhead <= 0.05,
      },
    );
  }
  return rows;
};
