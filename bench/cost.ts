import {
  CostExplorerClient,
  GetAnomaliesCommand,
  type GetCostAndUsageCommandInput,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  type ResultByTime,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import { memoryAlertLedger } from '../shared/cost/memory-ledger.js';
import { costExplorerSource } from '../shared/aws/cost-explorer.js';
import { parseConfig } from '../shared/config/schema.js';
import { memoryNotifier } from '../shared/notify/notifier.js';
import { runCostCheck } from '../shared/cost/service.js';
import { type BenchRow, median } from './stats.js';

const NOW = new Date('2026-11-23T07:00:00Z');
const DAY = 86_400_000;
/** Cost Explorer API: $0.01 per request (each page and each retry is a request). */
const USD_PER_REQUEST = 0.01;
/** Lambda arm64: $0.0000133334 per GB-second, $0.20 per million requests (us-east-1/eu-west-1 list prices). */
const LAMBDA_GB_SECOND = 0.0000133334;
const LAMBDA_REQUEST = 0.2 / 1e6;
/** Assumed billed duration of one real run: cold start + the three reads in parallel + an optional 4th. */
const ASSUMED_SECONDS = 3;
const MEMORY_GB = 0.5;
const RUNS_PER_MONTH = 30;

// A deterministic pseudo-random stream, so the bench month is the same every run.
const prng = (seed: number) => () => (seed = (seed * 1664525 + 1013904223) % 2 ** 32) / 2 ** 32;

/** A realistic account: 40 services, a few big ones and a long tail, daily, for the query's days. */
const usagePages = (input: GetCostAndUsageCommandInput): ResultByTime[] => {
  const rand = prng(42);
  const services = Array.from({ length: 40 }, (_, i) => ({
    name: i === 0 ? 'Amazon Bedrock' : `Service ${i}`,
    daily: 60 / (i + 1) ** 1.3,
  }));
  const out: ResultByTime[] = [];
  const hourly = input.Granularity === 'HOURLY';
  const step = hourly ? 3_600_000 : DAY;
  for (let t = Date.parse(input.TimePeriod!.Start!); t < Date.parse(input.TimePeriod!.End!); t += step) {
    const iso = new Date(t).toISOString();
    out.push({
      TimePeriod: {
        Start: hourly ? iso.replace('.000Z', 'Z') : iso.slice(0, 10),
        End: hourly
          ? new Date(t + step).toISOString().replace('.000Z', 'Z')
          : new Date(t + step).toISOString().slice(0, 10),
      },
      Total: {},
      Groups: services
        .filter((s) => !hourly || s.name === 'Amazon Bedrock')
        .map((s) => ({
          Keys: [s.name],
          Metrics: {
            UnblendedCost: {
              Amount: ((s.daily / (hourly ? 24 : 1)) * (0.85 + 0.3 * rand())).toFixed(10),
              Unit: 'USD',
            },
          },
        })),
      Estimated: true,
    });
  }
  return out;
};

const monthlyUsd = (requests: number) =>
  RUNS_PER_MONTH *
  (requests * USD_PER_REQUEST + ASSUMED_SECONDS * MEMORY_GB * LAMBDA_GB_SECOND + LAMBDA_REQUEST);

/**
 * A mocked Cost Explorer answering like a realistic account (40 services, day 23) that counts every request
 * at the client, not in the code under test.
 */
export const costExplorerMock = () => {
  const ce = mockClient(CostExplorerClient);
  ce.on(GetCostAndUsageCommand).callsFake((input: GetCostAndUsageCommandInput) => ({
    ResultsByTime: usagePages(input),
    GroupDefinitions: [{ Type: 'DIMENSION', Key: 'SERVICE' }],
  }));
  ce.on(GetCostForecastCommand).resolves({
    Total: { Amount: '712.3456', Unit: 'USD' },
    ForecastResultsByTime: [
      { MeanValue: '712.3456', PredictionIntervalLowerBound: '650', PredictionIntervalUpperBound: '780' },
    ],
  });
  ce.on(GetAnomaliesCommand).resolves({ Anomalies: [] });
  return {
    source: () =>
      costExplorerSource(new CostExplorerClient({ region: 'us-east-1' }), { sleep: async () => {} }),
    requests: () => ce.calls().length,
    reset: () => ce.resetHistory(),
    restore: () => ce.restore(),
  };
};

/**
 * One scheduled cost check over a realistic month behind a mocked Cost Explorer that counts every request,
 * with and without hourly granularity; and what running it daily costs per month.
 */
export const benchCost = async (runs: number): Promise<BenchRow[]> => {
  const ce = costExplorerMock();

  const measure = async (hourly: boolean) => {
    const config = parseConfig(
      { stage: 'prod', region: 'eu-west-1', cost: { enabled: true, alertsBy: 'cost-explorer', hourly } },
      'bench',
    );
    const times: number[] = [];
    let requests = 0;
    for (let i = 0; i < runs; i++) {
      ce.reset();
      const source = ce.source();
      const t = process.hrtime.bigint();
      await runCostCheck({
        config,
        source,
        ledger: memoryAlertLedger(() => NOW),
        notifier: memoryNotifier(),
        now: () => NOW,
        dryRun: false,
      });
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      // Counted at the mocked client, not by the code under test.
      requests = ce.requests();
    }
    return { requests, ms: median(times) };
  };

  const daily = await measure(false);
  const hourly = await measure(true);
  ce.restore();
  const month = monthlyUsd(daily.requests);
  const monthHourly = monthlyUsd(hourly.requests);
  return [
    {
      bench: 'cost check, 40 services, day 23',
      metric: 'Cost Explorer requests per run',
      value: String(daily.requests),
      baseline: '3 budget',
      ratio: daily.requests / 3,
      target: '≤ 3 without pagination',
      ok: daily.requests <= 3,
    },
    {
      bench: 'cost check, 40 services, day 23',
      metric: 'Cost Explorer requests per run, hourly: true',
      value: String(hourly.requests),
      baseline: '4 budget',
      ratio: hourly.requests / 4,
      target: '≤ 4 (one HOURLY query added)',
      ok: hourly.requests <= 4,
    },
    {
      bench: 'cost check, 40 services, day 23',
      metric: `engine + service CPU ms (median of ${runs})`,
      value: daily.ms.toFixed(1),
      baseline: '50 ms budget',
      ratio: daily.ms / 50,
      target: '< 50 ms',
      ok: daily.ms < 50,
    },
    {
      bench: 'cost function, daily schedule',
      metric: `$/month (${RUNS_PER_MONTH} runs × ${daily.requests} × $0.01 + Lambda ${ASSUMED_SECONDS} s × ${MEMORY_GB * 1024} MB arm64)`,
      value: `$${month.toFixed(2)} ($${monthHourly.toFixed(2)} hourly)`,
      baseline: '$1.00 budget',
      ratio: month / 1,
      target: '< $1.00 per month',
      ok: month < 1,
    },
  ];
};
