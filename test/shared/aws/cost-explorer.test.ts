import {
  CostExplorerClient,
  DataUnavailableException,
  GetAnomaliesCommand,
  GetCostAndUsageCommand,
  GetCostForecastCommand,
  LimitExceededException,
} from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { COST_EXPLORER_REGION, costExplorerClient } from '../../../shared/aws/clients/cost-explorer.js';
import { costExplorerSource } from '../../../shared/aws/cost-explorer.js';
import { AwsCallError } from '../../../shared/errors.js';
import { anomaliesResponse, forecastResponse, usageResponse } from '../../fakes/cost-fixtures.js';

const ce = mockClient(CostExplorerClient);
const period = { start: '2026-11-01', end: '2026-11-23' };
const throttled = () =>
  new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });

const source = (sleeps: number[] = []) =>
  costExplorerSource(new CostExplorerClient({ region: 'us-east-1' }), {
    sleep: async (ms) => void sleeps.push(ms),
  });

describe('costExplorerSource', () => {
  beforeEach(() => ce.reset());

  it('pins the client to us-east-1 and leaves retries to the adapter', async () => {
    // Act
    const client = costExplorerClient();

    // Assert
    expect(COST_EXPLORER_REGION).toBe('us-east-1');
    expect(await client.config.region()).toBe('us-east-1');
    expect(await client.config.maxAttempts()).toBe(1);
  });

  it('turns the recorded DAILY answer into plain service-days', async () => {
    // Prepare
    ce.on(GetCostAndUsageCommand).resolves(usageResponse());

    // Act
    const daily = await source().daily({ period, metric: 'UnblendedCost' });

    // Assert
    expect(daily).toHaveLength(22 * 13);
    expect(daily[0]).toEqual({
      day: '2026-11-01',
      service: 'Amazon Relational Database Service',
      usd: expect.closeTo(33.0868905405, 6),
      estimated: true,
      unit: 'USD',
    });
    expect(daily.reduce((a, d) => a + d.usd, 0)).toBeCloseTo(2140.12, 6);
  });

  it("keeps each amount's unit: an account billed in another currency is never read as USD", async () => {
    // Prepare: the recorded answer as a payer billed in CNY gets it (same shape, Unit CNY)
    const cny = usageResponse();
    for (const r of cny.ResultsByTime ?? [])
      for (const g of r.Groups ?? []) g.Metrics!.UnblendedCost!.Unit = 'CNY';
    ce.on(GetCostAndUsageCommand).resolves(cny);

    // Act
    const daily = await source().daily({ period, metric: 'UnblendedCost' });

    // Assert
    expect(new Set(daily.map((d) => d.unit))).toEqual(new Set(['CNY']));
  });

  it('pages with NextPageToken and counts every page as a request', async () => {
    // Prepare
    const all = usageResponse();
    const first = { ...all, ResultsByTime: all.ResultsByTime!.slice(0, 10), NextPageToken: 'page-2' };
    const second = { ...all, ResultsByTime: all.ResultsByTime!.slice(10) };
    ce.on(GetCostAndUsageCommand).resolvesOnce(first).resolvesOnce(second);
    const s = source();

    // Act
    const daily = await s.daily({ period, metric: 'UnblendedCost' });

    // Assert
    expect(daily).toHaveLength(22 * 13);
    expect(s.requests).toBe(2);
    expect(ce).toHaveReceivedNthCommandWith(GetCostAndUsageCommand, 2, { NextPageToken: 'page-2' });
    expect(ce.commandCalls(GetCostAndUsageCommand)[0]!.args[0].input.NextPageToken).toBeUndefined();
  });

  it('stops a runaway pagination at maxPages', async () => {
    // Prepare
    ce.on(GetCostAndUsageCommand).resolves({ ResultsByTime: [], NextPageToken: 'again' });
    const s = costExplorerSource(new CostExplorerClient({}), { maxPages: 3 });

    // Act
    const act = s.daily({ period, metric: 'UnblendedCost' });

    // Assert
    await expect(act).rejects.toThrow(/GetCostAndUsage failed .*PageLimitExceeded: more than 3 pages/);
    expect(s.requests).toBe(3);
  });

  it('groups by a tag next to SERVICE and strips the `key$` prefix (untagged = "")', async () => {
    // Prepare
    ce.on(GetCostAndUsageCommand).resolves({
      ResultsByTime: [
        {
          TimePeriod: { Start: '2026-11-01', End: '2026-11-02' },
          Groups: [
            {
              Keys: ['AWS Lambda', 'team$payments'],
              Metrics: { UnblendedCost: { Amount: '1.5', Unit: 'USD' } },
            },
            { Keys: ['AWS Lambda', 'team$'], Metrics: { UnblendedCost: { Amount: '0.5', Unit: 'USD' } } },
          ],
          Estimated: false,
        },
      ],
    });

    // Act
    const daily = await source().daily({ period, metric: 'UnblendedCost', groupBy: { tag: 'team' } });

    // Assert
    expect(ce).toHaveReceivedCommandWith(GetCostAndUsageCommand, {
      GroupBy: [
        { Type: 'DIMENSION', Key: 'SERVICE' },
        { Type: 'TAG', Key: 'team' },
      ],
    });
    expect(daily.map((d) => d.group)).toEqual(['payments', '']);
  });

  it('retries LimitExceededException with exponential backoff, then gives up naming the error', async () => {
    // Prepare
    const sleeps: number[] = [];
    ce.on(GetCostForecastCommand).rejects(throttled());
    const s = source(sleeps);

    // Act
    const act = s.forecast({ period: { start: '2026-11-23', end: '2026-12-01' }, metric: 'UnblendedCost' });

    // Assert
    await expect(act).rejects.toMatchObject({ name: 'AwsCallError', code: 'LimitExceededException' });
    expect(sleeps).toEqual([1000, 2000, 4000]);
    expect(s.requests).toBe(4);
  });

  it('does not retry DataUnavailableException: it will not change within a run', async () => {
    // Prepare
    ce.on(GetCostForecastCommand).rejects(
      new DataUnavailableException({ message: 'Insufficient data', $metadata: {} }),
    );
    const s = source();

    // Act
    const err = await s
      .forecast({ period: { start: '2026-11-23', end: '2026-12-01' }, metric: 'NetUnblendedCost' })
      .catch((e: unknown) => e);

    // Assert
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as AwsCallError).code).toBe('DataUnavailableException');
    expect(s.requests).toBe(1);
    expect(ce).toHaveReceivedCommandWith(GetCostForecastCommand, { Metric: 'NET_UNBLENDED_COST' });
  });

  it('reads the forecast mean and its 80 % interval', async () => {
    // Prepare
    ce.on(GetCostForecastCommand).resolves(forecastResponse());

    // Act
    const f = await source().forecast({
      period: { start: '2026-11-23', end: '2026-12-01' },
      metric: 'UnblendedCost',
    });

    // Assert
    expect(f.meanUsd).toBeCloseTo(780.2812345678, 8);
    expect(f.lowerUsd).toBeCloseTo(702.5531111111, 8);
    expect(f.upperUsd).toBeCloseTo(858.0093580245, 8);
    expect(f.unit).toBe('USD');
    expect(ce).toHaveReceivedCommandWith(GetCostForecastCommand, { PredictionIntervalLevel: 80 });
  });

  it('reads anomalies above the impact floor across pages, with a console link', async () => {
    // Prepare
    ce.on(GetAnomaliesCommand)
      .resolvesOnce({ ...anomaliesResponse(), NextPageToken: 'more' })
      .resolvesOnce({ Anomalies: [] });
    const s = source();

    // Act
    const anomalies = await s.anomalies({ start: '2026-11-20', end: '2026-11-23', minImpactUsd: 10 });

    // Assert
    expect(s.requests).toBe(2);
    expect(anomalies).toEqual([
      expect.objectContaining({
        id: 'a6c2f6e4-31d3-4f0e-9b8e-2f1d7c9a5b10',
        via: 'poll',
        impactUsd: 312.4,
        dimension: 'Amazon Elastic Compute Cloud - Compute',
        link: 'https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/0d4b9c1e-7f2a-4e5b-8c3d-6a9f1e2b7c40/anomalies/a6c2f6e4-31d3-4f0e-9b8e-2f1d7c9a5b10',
      }),
    ]);
    expect(anomalies[0]!.rootCauses[0]).toMatchObject({
      usageType: 'EU-BoxUsage:g5.2xlarge',
      contributionUsd: 298.11,
    });
    expect(ce).toHaveReceivedNthCommandWith(GetAnomaliesCommand, 2, { NextPageToken: 'more' });
  });
});
