import {
  CostExplorerClient,
  GetAnomaliesCommand,
  type GetAnomaliesCommandOutput,
  GetCostAndUsageCommand,
  type GetCostAndUsageCommandOutput,
  GetCostForecastCommand,
  type GetCostForecastCommandOutput,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import anomalyEventBridge from '../../events/cost/anomaly-eventbridge.json' with { type: 'json' };
import anomalySns from '../../events/cost/anomaly-sns.json' with { type: 'json' };
import anomaliesJson from '../../events/cost/get-anomalies.json' with { type: 'json' };
import hourlyJson from '../../events/cost/get-cost-and-usage-hourly.json' with { type: 'json' };
import usageJson from '../../events/cost/get-cost-and-usage.json' with { type: 'json' };
import forecastJson from '../../events/cost/get-cost-forecast.json' with { type: 'json' };
import dryRun from '../../events/cost/dry-run.json' with { type: 'json' };
import onDemand from '../../events/cost/on-demand.json' with { type: 'json' };
import scheduled from '../../events/cost/scheduled.json' with { type: 'json' };
import { type AlertLedger } from '../../shared/cost/ports.js';
import { memoryAlertLedger } from '../../shared/cost/memory-ledger.js';
import { costExplorerSource } from '../../shared/aws/cost-explorer.js';
import { parseConfig, type StewardConfig } from '../../shared/config/schema.js';
import type { CostServiceDeps } from '../../shared/cost/service.js';
import { memoryNotifier, type Notifier } from '../../shared/notify/notifier.js';

/** The scheduled run of the recorded fixtures: 07:00 UTC on 2026-11-23 (month-to-date = Nov 1–22). */
export const NOW = new Date('2026-11-23T07:00:00Z');

/** The recorded month: $2,140.12 month-to-date, forecast $780.28 for the rest → $2,920.40 month-end. */
export const RECORDED = { monthToDate: 2140.12, remaining: 780.28, monthEnd: 2920.4 };

/** A validated config with the Cost Explorer check enabled; `cost` overrides merge into the defaults. */
export const costTestConfig = (cost: Record<string, unknown> = {}): StewardConfig =>
  parseConfig(
    { stage: 'staging', region: 'eu-west-1', cost: { enabled: true, alertsBy: 'cost-explorer', ...cost } },
    'test',
  );

/** Fresh copies of the sample triggers. */
export const costEvents = () => ({
  scheduled: structuredClone(scheduled) as Record<string, unknown>,
  onDemand: structuredClone(onDemand) as Record<string, unknown>,
  dryRun: structuredClone(dryRun) as Record<string, unknown>,
  eventBridge: structuredClone(anomalyEventBridge) as Record<string, unknown> & {
    detail: Record<string, unknown> & { impact: Record<string, unknown> };
  },
  sns: structuredClone(anomalySns) as { Records: { Sns: { Message: string } }[] },
});

type Usage = GetCostAndUsageCommandOutput;

const amountOf = (g: NonNullable<NonNullable<Usage['ResultsByTime']>[number]['Groups']>[number]) =>
  Number(g.Metrics!.UnblendedCost!.Amount);
const setAmount = (
  g: NonNullable<NonNullable<Usage['ResultsByTime']>[number]['Groups']>[number],
  usd: number,
) => {
  g.Metrics!.UnblendedCost!.Amount = usd.toFixed(10);
};

/**
 * The recorded GetCostAndUsage answer, optionally changed: every amount scaled, some of yesterday's
 * (2026-11-22) amounts set, or the last `days` re-dated to end the day before `today`.
 */
export const usageResponse = (
  opts: { scale?: number; yesterday?: Record<string, number>; today?: string; days?: number } = {},
): Usage => {
  const r = structuredClone(usageJson) as unknown as Usage;
  for (const day of r.ResultsByTime!)
    for (const g of day.Groups!) setAmount(g, amountOf(g) * (opts.scale ?? 1));
  const last = r.ResultsByTime!.at(-1)!;
  for (const [service, usd] of Object.entries(opts.yesterday ?? {})) {
    const g = last.Groups!.find((x) => x.Keys![0] === service);
    if (g) setAmount(g, usd);
    else
      last.Groups!.push({
        Keys: [service],
        Metrics: { UnblendedCost: { Amount: usd.toFixed(10), Unit: 'USD' } },
      });
  }
  if (opts.today) {
    const kept = r.ResultsByTime!.slice(-(opts.days ?? r.ResultsByTime!.length));
    kept.forEach((day, i) => {
      const start = new Date(Date.parse(`${opts.today}T00:00:00Z`) - (kept.length - i) * 86_400_000);
      day.TimePeriod = {
        Start: start.toISOString().slice(0, 10),
        End: new Date(start.getTime() + 86_400_000).toISOString().slice(0, 10),
      };
    });
    r.ResultsByTime = kept;
  }
  return r;
};

/** The recorded forecast, scaled. */
export const forecastResponse = (scale = 1): GetCostForecastCommandOutput => {
  const r = structuredClone(forecastJson) as unknown as GetCostForecastCommandOutput;
  const s = (v?: string) => (Number(v) * scale).toFixed(10);
  r.Total!.Amount = s(r.Total!.Amount);
  for (const f of r.ForecastResultsByTime!) {
    f.MeanValue = s(f.MeanValue);
    f.PredictionIntervalLowerBound = s(f.PredictionIntervalLowerBound);
    f.PredictionIntervalUpperBound = s(f.PredictionIntervalUpperBound);
  }
  return r;
};

export const hourlyResponse = (): Usage => structuredClone(hourlyJson) as unknown as Usage;
export const anomaliesResponse = (): GetAnomaliesCommandOutput =>
  structuredClone(anomaliesJson) as unknown as GetAnomaliesCommandOutput;
export const NO_ANOMALIES: GetAnomaliesCommandOutput = { Anomalies: [], $metadata: {} };

/** A mocked Cost Explorer answering with the given responses (or the recorded ones). */
export const mockCostExplorer = (
  r: {
    usage?: Usage;
    forecast?: GetCostForecastCommandOutput | Error;
    anomalies?: GetAnomaliesCommandOutput;
    hourly?: Usage | Error;
  } = {},
) => {
  const ce = mockClient(CostExplorerClient);
  ce.on(GetCostAndUsageCommand, { Granularity: 'DAILY' }).resolves(r.usage ?? usageResponse());
  if (r.hourly instanceof Error) ce.on(GetCostAndUsageCommand, { Granularity: 'HOURLY' }).rejects(r.hourly);
  else ce.on(GetCostAndUsageCommand, { Granularity: 'HOURLY' }).resolves(r.hourly ?? hourlyResponse());
  if (r.forecast instanceof Error) ce.on(GetCostForecastCommand).rejects(r.forecast);
  else ce.on(GetCostForecastCommand).resolves(r.forecast ?? forecastResponse());
  ce.on(GetAnomaliesCommand).resolves(r.anomalies ?? NO_ANOMALIES);
  return ce;
};

/**
 * Cost deps over the real Cost Explorer adapter (against whatever mock is installed, no backoff waits),
 * an in-memory ledger and notifier.
 */
export const fakeCostDeps = (
  opts: {
    config?: StewardConfig;
    ledger?: AlertLedger;
    notifier?: Notifier;
    now?: Date;
    dryRun?: boolean;
  } = {},
) => {
  const notifier = memoryNotifier();
  const now = opts.now ?? NOW;
  const ledger = opts.ledger ?? memoryAlertLedger(() => now);
  const deps: CostServiceDeps = {
    config: opts.config ?? costTestConfig(),
    source: costExplorerSource(new CostExplorerClient({ region: 'us-east-1' }), { sleep: async () => {} }),
    ledger,
    notifier: opts.notifier ?? notifier,
    now: () => now,
    dryRun: opts.dryRun ?? false,
    sleep: async () => {},
  };
  return { deps, notifier, ledger };
};
