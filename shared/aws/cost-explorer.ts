import {
  type CostExplorerClient,
  GetAnomaliesCommand,
  type GetAnomaliesCommandOutput,
  GetCostAndUsageCommand,
  type GetCostAndUsageCommandInput,
  type GetCostAndUsageCommandOutput,
  GetCostForecastCommand,
  type GetCostForecastCommandOutput,
  type GroupDefinition,
} from '@aws-sdk/client-cost-explorer';
import type { CostMetric } from '../config/schema.js';
import { anomalyConsoleLink } from '../cost/request.js';
import type { CostAnomaly, CostSource, DailyCost, HourlyCost, SecondaryGroup } from '../cost/ports.js';
import { AwsCallError, errorName } from '../errors.js';
import { doubling, retrying } from '../retry.js';

export interface CostExplorerOptions {
  /** Attempts per request when Cost Explorer throttles (LimitExceededException) or fails transiently. @default 4 */
  maxAttempts?: number;
  /** Wait before retry n (1-based): `baseDelayMs × 2^(n-1)`. @default 1000 */
  baseDelayMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Pages per query at most: every page is a billed request, a runaway pagination is a cost. @default 20 */
  maxPages?: number;
}

// GetCostForecast names its metrics differently from GetCostAndUsage.
const FORECAST_METRIC = {
  UnblendedCost: 'UNBLENDED_COST',
  NetUnblendedCost: 'NET_UNBLENDED_COST',
  AmortizedCost: 'AMORTIZED_COST',
  NetAmortizedCost: 'NET_AMORTIZED_COST',
  BlendedCost: 'BLENDED_COST',
} as const satisfies Record<CostMetric, string>;

// Cost Explorer answers LimitExceededException when called too fast; throttling, 5xx, timeouts and dropped
// connections are transient too (the client itself does not retry: see costExplorerClient).
const RETRYABLE = new Set([
  'LimitExceededException',
  'ThrottlingException',
  'TooManyRequestsException',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
]);
const isRetryable = (e: unknown): boolean => {
  const meta = (e as { $metadata?: { httpStatusCode?: number }; $retryable?: unknown } | undefined) ?? {};
  return RETRYABLE.has(errorName(e)) || (meta.$metadata?.httpStatusCode ?? 0) >= 500 || !!meta.$retryable;
};

const amount = (v: string | undefined): number | undefined => {
  const n = Number(v);
  return v === undefined || v === '' || !Number.isFinite(n) ? undefined : n;
};

const groupBy = (g: SecondaryGroup | undefined): GroupDefinition[] => [
  { Type: 'DIMENSION', Key: 'SERVICE' },
  ...(g === 'linked-account'
    ? [{ Type: 'DIMENSION' as const, Key: 'LINKED_ACCOUNT' }]
    : g
      ? [{ Type: 'TAG' as const, Key: g.tag }]
      : []),
];

/**
 * CostSource over the Cost Explorer API (us-east-1, $0.01 per request). Pages with NextPageToken, retries
 * with exponential backoff, and counts every request it sends: pages and retries are billed alike.
 */
export const costExplorerSource = (
  client: CostExplorerClient,
  opts: CostExplorerOptions = {},
): CostSource => {
  const retry = {
    waitsMs: doubling(opts.baseDelayMs ?? 1000, (opts.maxAttempts ?? 4) - 1),
    retryable: isRetryable,
    sleep: opts.sleep,
  };
  const maxPages = opts.maxPages ?? 20;
  let requests = 0;

  const call = <T>(operation: string, resource: string, send: () => Promise<T>): Promise<T> =>
    retrying(() => {
      requests++;
      return send();
    }, retry).catch((e: unknown) => {
      throw new AwsCallError(operation, resource, e);
    });

  const pages = async <P extends { NextPageToken?: string }>(
    operation: string,
    resource: string,
    send: (token: string | undefined) => Promise<P>,
  ): Promise<P[]> => {
    const out: P[] = [];
    let token: string | undefined;
    do {
      if (out.length >= maxPages) {
        const e = Object.assign(new Error(`more than ${maxPages} pages; narrow the grouping`), {
          name: 'PageLimitExceeded',
        });
        throw new AwsCallError(operation, resource, e);
      }
      const page = await call(operation, resource, () => send(token));
      out.push(page);
      token = page.NextPageToken || undefined;
    } while (token);
    return out;
  };

  const costAndUsage = (input: GetCostAndUsageCommandInput, resource: string) =>
    pages<GetCostAndUsageCommandOutput>('GetCostAndUsage', resource, (NextPageToken) =>
      client.send(new GetCostAndUsageCommand({ ...input, ...(NextPageToken && { NextPageToken }) })),
    );

  return {
    get requests() {
      return requests;
    },

    daily: async ({ period, metric, groupBy: second }) => {
      const tagPrefix = second && second !== 'linked-account' ? `${second.tag}$` : undefined;
      const out: DailyCost[] = [];
      const resource = `daily ${metric} ${period.start}..${period.end}`;
      for (const page of await costAndUsage(
        {
          TimePeriod: { Start: period.start, End: period.end },
          Granularity: 'DAILY',
          Metrics: [metric],
          GroupBy: groupBy(second),
        },
        resource,
      )) {
        for (const r of page.ResultsByTime ?? []) {
          const day = r.TimePeriod?.Start?.slice(0, 10);
          if (!day) continue;
          for (const g of r.Groups ?? []) {
            const usd = amount(g.Metrics?.[metric]?.Amount);
            const unit = g.Metrics?.[metric]?.Unit;
            const [service, key] = g.Keys ?? [];
            if (usd === undefined || !service) continue;
            // Tag groups come back as `<key>$<value>` (`<key>$` when untagged).
            const group =
              key === undefined
                ? undefined
                : tagPrefix && key.startsWith(tagPrefix)
                  ? key.slice(tagPrefix.length)
                  : key;
            out.push({
              day,
              service,
              ...(group !== undefined && second && { group }),
              usd,
              estimated: !!r.Estimated,
              ...(unit && { unit }),
            });
          }
        }
      }
      return out;
    },

    hourly: async ({ start, end, metric, services }) => {
      const out: HourlyCost[] = [];
      for (const page of await costAndUsage(
        {
          TimePeriod: { Start: start, End: end },
          Granularity: 'HOURLY',
          Metrics: [metric],
          Filter: { Dimensions: { Key: 'SERVICE', Values: services } },
          GroupBy: [{ Type: 'DIMENSION', Key: 'SERVICE' }],
        },
        `hourly ${metric} ${start}..${end}`,
      )) {
        for (const r of page.ResultsByTime ?? []) {
          const hour = r.TimePeriod?.Start;
          if (!hour) continue;
          for (const g of r.Groups ?? []) {
            const usd = amount(g.Metrics?.[metric]?.Amount);
            const unit = g.Metrics?.[metric]?.Unit;
            const service = g.Keys?.[0];
            if (usd !== undefined && service) out.push({ hour, service, usd, ...(unit && { unit }) });
          }
        }
      }
      return out;
    },

    forecast: async ({ period, metric }) => {
      const r: GetCostForecastCommandOutput = await call(
        'GetCostForecast',
        `${metric} ${period.start}..${period.end}`,
        () =>
          client.send(
            new GetCostForecastCommand({
              TimePeriod: { Start: period.start, End: period.end },
              Metric: FORECAST_METRIC[metric],
              Granularity: 'MONTHLY',
              PredictionIntervalLevel: 80,
            }),
          ),
      );
      const meanUsd = amount(r.Total?.Amount);
      if (meanUsd === undefined) {
        const e = Object.assign(new Error('the response has no Total.Amount'), {
          name: 'DataUnavailableException',
        });
        throw new AwsCallError('GetCostForecast', `${period.start}..${period.end}`, e);
      }
      const bounds = (r.ForecastResultsByTime ?? []).map((f) => ({
        lower: amount(f.PredictionIntervalLowerBound),
        upper: amount(f.PredictionIntervalUpperBound),
      }));
      const complete =
        bounds.length > 0 && bounds.every((b) => b.lower !== undefined && b.upper !== undefined);
      return {
        period,
        meanUsd,
        ...(r.Total?.Unit && { unit: r.Total.Unit }),
        ...(complete && {
          lowerUsd: bounds.reduce((a, b) => a + b.lower!, 0),
          upperUsd: bounds.reduce((a, b) => a + b.upper!, 0),
        }),
      };
    },

    anomalies: async ({ start, end, minImpactUsd }) => {
      const out: CostAnomaly[] = [];
      for (const page of await pages<GetAnomaliesCommandOutput>(
        'GetAnomalies',
        `${start}..${end}`,
        (NextPageToken) =>
          client.send(
            new GetAnomaliesCommand({
              DateInterval: { StartDate: start, EndDate: end },
              TotalImpact: { NumericOperator: 'GREATER_THAN_OR_EQUAL', StartValue: minImpactUsd },
              ...(NextPageToken && { NextPageToken }),
            }),
          ),
      )) {
        for (const a of page.Anomalies ?? []) {
          if (!a.AnomalyId || !a.Impact) continue;
          const maxImpactUsd = a.Impact.MaxImpact ?? 0;
          out.push({
            id: a.AnomalyId,
            via: 'poll',
            ...(a.AnomalyStartDate && { startDate: a.AnomalyStartDate }),
            ...(a.AnomalyEndDate && { endDate: a.AnomalyEndDate }),
            ...(a.DimensionValue && { dimension: a.DimensionValue }),
            impactUsd: a.Impact.TotalImpact ?? maxImpactUsd,
            maxImpactUsd,
            ...(a.Impact.TotalActualSpend !== undefined && { actualUsd: a.Impact.TotalActualSpend }),
            ...(a.Impact.TotalExpectedSpend !== undefined && { expectedUsd: a.Impact.TotalExpectedSpend }),
            ...(a.Impact.TotalImpactPercentage !== undefined && {
              impactPercent: a.Impact.TotalImpactPercentage,
            }),
            ...(a.MonitorArn && { monitorArn: a.MonitorArn }),
            rootCauses: (a.RootCauses ?? []).map((c) => ({
              ...(c.Service && { service: c.Service }),
              ...(c.Region && { region: c.Region }),
              ...(c.LinkedAccount && { linkedAccount: c.LinkedAccount }),
              ...(c.LinkedAccountName && { linkedAccountName: c.LinkedAccountName }),
              ...(c.UsageType && { usageType: c.UsageType }),
              ...(c.Impact?.Contribution !== undefined && { contributionUsd: c.Impact.Contribution }),
            })),
            link: anomalyConsoleLink(a.AnomalyId, a.MonitorArn),
          });
        }
      }
      return out;
    },
  };
};
