import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { stackId, StewardStack } from '../infra/stack.js';
import { loadStage } from '../shared/config/files.js';
import { parseConfig, type StewardConfig } from '../shared/config/schema.js';
import { inFreshProcess } from './support/fresh-process.js';
import { type CostInputs, type CostLine, fixedCost, firstRun, total } from './fixed-cost/model.js';
import {
  coldStartFunctions,
  drillMetricsPerDatabase,
  estateOf,
  type RunEmission,
  scheduledRuns,
} from './fixed-cost/runs.js';
import { type CfnTemplate, countTemplate, firings, MONTH_START } from './fixed-cost/template.js';
import type { BenchRow } from './stats.js';

const ROOT = new URL('..', import.meta.url);
/** The target from issue 16: steward's own fixed monthly cost for 100 databases. */
export const TARGET_USD = 2;
export const SIZES = [10, 100, 500] as const;

/** Synthesize a stage offline as `cdk synth` does (bundling skipped: a bundle does not change the bill). */
export const synthesize = (config: StewardConfig): CfnTemplate => {
  const { context } = JSON.parse(readFileSync(new URL('cdk.json', ROOT), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const stack = new StewardStack(app, stackId(config.stage), { config });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
};

/**
 * The shipped prod example and a stage with nothing but the defaults, both held to the target; and, reported
 * only, the prod example with the opt-in Cost Explorer check instead of budgets (what that option costs).
 */
export const costedConfigs = (): [string, StewardConfig, { gated: boolean }][] => {
  const prod = loadStage(new URL('examples/', ROOT).pathname, 'prod').config;
  return [
    ['prod example', prod, { gated: true }],
    ['defaults', parseConfig({ stage: 'prod', region: 'eu-west-1' }, 'defaults'), { gated: true }],
    [
      'prod example, alertsBy: cost-explorer (opt-in)',
      { ...prod, cost: { ...prod.cost, alertsBy: 'cost-explorer' } },
      { gated: false },
    ],
  ];
};

/** Everything the model needs for one config at each estate size: the template counted, the runs measured. */
export const measureConfig = async (
  config: StewardConfig,
  sizes: readonly number[],
): Promise<CostInputs[]> => {
  const counts = countTemplate(synthesize(config));
  const runs = scheduledRuns(config);
  const drillMetrics = drillMetricsPerDatabase();
  const coldStart = coldStartFunctions();
  const out: CostInputs[] = [];
  for (const n of sizes) {
    const emissions: CostInputs['emissions'] = {};
    for (const s of counts.schedules) {
      const kind = s.target.replace(/^steward-[^-]+-/, '');
      const run = runs[kind];
      if (!run) continue;
      if (kind === 'cost') {
        // What a check asks Cost Explorer depends on the day: every firing of the month is run.
        const byHour = new Map<number, RunEmission>();
        for (const h of firings(s.expression).hours) {
          const e = await run(s.input, new Date(MONTH_START + h * 3_600_000 + 5 * 60_000), n);
          if (e) byHour.set(h, e);
        }
        emissions[s.name] = { byHour };
      } else {
        const all = await run(s.input, firstRun(s.expression), n);
        emissions[s.name] = all ? { all } : {};
      }
    }
    const copying = new Set(
      Object.entries(config.backup.policies)
        .filter(([, p]) => p.copyToDr)
        .map(([name]) => name),
    );
    out.push({
      counts,
      emissions,
      drillMetrics,
      coldStart,
      databases: n,
      drCopying: estateOf(config, n).filter((d) => copying.has(d.tags['steward:backup']!)).length,
      drillTargets: Object.keys(config.drill.targets).length,
    });
  }
  return out;
};

const money = (n: number) => `$${n.toFixed(2)}`;

/**
 * The cost table as bench rows: one row per component with its cost at each size, then the total per
 * size, where the 100-database total of a gated config must be at most $2.
 */
export const fixedCostRows = (label: string, bySize: CostInputs[], gatedConfig = true): BenchRow[] => {
  const tables = bySize.map((i) => ({ n: i.databases, lines: fixedCost(i) }));
  const sizes = tables.map((t) => t.n).join(' / ');
  const rows: BenchRow[] = tables[0]!.lines.map((line: CostLine, k) => ({
    bench: `fixed cost, ${label}`,
    metric: `${line.component}: ${tables.map((t) => t.lines[k]!.how).find((h, _, all) => h !== all[0]) ? tables.map((t) => `${t.n}: ${t.lines[k]!.how}`).join('; ') : line.how}`,
    value: tables.map((t) => money(t.lines[k]!.usd)).join(' / '),
    baseline: `${sizes} DBs`,
    target: 'itemised',
    ok: true,
  }));
  for (const t of tables) {
    const sum = total(t.lines);
    const gated = gatedConfig && t.n === 100;
    rows.push({
      bench: `fixed cost, ${label}`,
      metric: `total $/month, ${t.n} databases`,
      value: money(sum),
      baseline: gated ? `$${TARGET_USD.toFixed(2)} target` : 'no target',
      ...(gated ? { ratio: sum / TARGET_USD } : {}),
      target: gated ? `≤ $${TARGET_USD.toFixed(2)}` : 'reported',
      ok: !gated || sum <= TARGET_USD,
    });
  }
  return rows;
};

/** The prod example's and the defaults' rows, measured in this process (see worker.ts for the environment). */
export const measuredFixedCostRows = async (sizes: readonly number[]): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  for (const [label, config, { gated }] of costedConfigs())
    rows.push(...fixedCostRows(label, await measureConfig(config, sizes), gated));
  return rows;
};

/**
 * `npm run bench -- fixed-cost`: the prod example and the defaults at 10 / 100 / 500 databases, measured in a
 * fresh process with metrics on and the default log level, as a deployed function runs.
 */
export const benchFixedCost = async (sizes: readonly number[] = SIZES): Promise<BenchRow[]> => {
  const env = { ...process.env };
  for (const k of ['POWERTOOLS_METRICS_DISABLED', 'POWERTOOLS_DEV', 'POWERTOOLS_LOG_LEVEL']) delete env[k];
  return inFreshProcess('fixed-cost measurement', 'bench/fixed-cost/worker.ts', sizes, { env }) as BenchRow[];
};
