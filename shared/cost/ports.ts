import type { CostMetric } from '../config/schema.js';

/** `YYYY-MM-DD`, a UTC calendar day. */
export type Day = string;

/** Half-open range of days `[start, end)`, as Cost Explorer's `TimePeriod` takes it. */
export interface DayRange {
  start: Day;
  end: Day;
}

/** Cost of one service (and, when grouped by a second key, one account or tag value) on one day. */
export interface DailyCost {
  day: Day;
  service: string;
  /** The second group key: a linked account id or a tag value (`""` = untagged). */
  group?: string;
  usd: number;
  /** Cost Explorer marks days whose bill is not final yet. */
  estimated: boolean;
  /** The amount's `Unit` as Cost Explorer gave it: the account's billing currency (`USD` for most, `CNY` in China). */
  unit?: string;
}

/** Cost of one service in one hour (`hour` is the ISO start of the hour, UTC). */
export interface HourlyCost {
  hour: string;
  service: string;
  usd: number;
  /** The amount's `Unit` (see DailyCost). */
  unit?: string;
}

/** Cost Explorer's forecast for a period, with its 80 % prediction interval when given. */
export interface CostForecast {
  period: DayRange;
  meanUsd: number;
  lowerUsd?: number;
  upperUsd?: number;
  /** The forecast's `Unit` (see DailyCost). */
  unit?: string;
}

/** One root cause of an anomaly, as Cost Anomaly Detection ranks them. */
export interface AnomalyRootCause {
  service?: string;
  region?: string;
  linkedAccount?: string;
  linkedAccountName?: string;
  usageType?: string;
  contributionUsd?: number;
}

/** A Cost Anomaly Detection anomaly as plain data, whichever way it arrived. */
export interface CostAnomaly {
  id: string;
  /** What carried it: the EventBridge event, the SNS message or the scheduled GetAnomalies poll. */
  via: 'eventbridge' | 'sns' | 'poll';
  startDate?: string;
  endDate?: string;
  /** The monitored dimension, e.g. the service name of an AWS services monitor. */
  dimension?: string;
  /** Total impact in USD (actual − expected over the anomaly); the max daily impact when absent. */
  impactUsd: number;
  maxImpactUsd: number;
  actualUsd?: number;
  expectedUsd?: number;
  impactPercent?: number;
  monitorArn?: string;
  monitorName?: string;
  accountId?: string;
  rootCauses: AnomalyRootCause[];
  /** Console page of the anomaly. */
  link: string;
}

/** What a daily cost query groups by next to SERVICE. */
export type SecondaryGroup = { tag: string } | 'linked-account';

/**
 * Port over Cost Explorer (adapter: shared/aws/cost-explorer.ts). Every method throws AwsCallError on
 * failure; `requests` counts every request sent, retries and pages included: each costs $0.01.
 */
export interface CostSource {
  daily(q: { period: DayRange; metric: CostMetric; groupBy?: SecondaryGroup }): Promise<DailyCost[]>;
  /** Per-hour cost of the given services over `[start, end)` (ISO hours; the last 14 days only). */
  hourly(q: { start: string; end: string; metric: CostMetric; services: string[] }): Promise<HourlyCost[]>;
  forecast(q: { period: DayRange; metric: CostMetric }): Promise<CostForecast>;
  /** Anomalies whose end date is in `[start, end]` (inclusive) with at least `minImpactUsd` total impact. */
  anomalies(q: { start: Day; end: Day; minImpactUsd: number }): Promise<CostAnomaly[]>;
  readonly requests: number;
}

/**
 * A claim older than this that was never confirmed belongs to a run that died between claim and send
 * (Lambda's longest timeout is 15 minutes): the next run may take it over and alert.
 */
export const STALE_CLAIM_SECONDS = 15 * 60;

/** An alert claimed but not confirmed sent: what a later run re-sends, with the text of its own day. */
export interface UnsentAlert {
  key: string;
  /** 1 info, 2 warning, 3 critical. */
  level: number;
  /** The alert's text as it was claimed. */
  detail: string;
  /** Epoch seconds of the claim. */
  claimedAt: number;
  /** `failed`: its publish failed; `pending`: its run stopped (killed, timed out) before confirming. */
  status: 'pending' | 'failed';
}

/**
 * Port: the alert dedup ledger in the state table (adapter: shared/aws/alert-ledger.ts). `claim` is an
 * atomic test-and-set, so of two concurrent runs exactly one wins a key. Claim before publishing, confirm
 * after; what is claimed and never confirmed stays listed by `unsent` until a run delivers it.
 */
export interface AlertLedger {
  /**
   * Claim `key` for `level` (1 info, 2 warning, 3 critical). True when this caller won: the key was free,
   * held at a lower level (an escalation), its publish failed, or it was left pending by a run that died
   * before it confirmed (after STALE_CLAIM_SECONDS).
   */
  claim(key: string, level: number, ttlSeconds: number, detail: string): Promise<boolean>;
  /** Mark a claimed key as delivered. */
  confirm(key: string): Promise<void>;
  /**
   * Delivery failed: the key may be claimed again at once, and stays listed by `unsent` (with its text),
   * so a later run re-sends it even when no run judges that key again (a day-scoped spike).
   */
  release(key: string): Promise<void>;
  /** Which of `keys` are held (claimed or delivered); read-only (the CLI's armed/fired view). */
  held(keys: readonly string[]): Promise<Set<string>>;
  /** Claims never confirmed sent: failed ones, and pending ones older than STALE_CLAIM_SECONDS. */
  unsent(): Promise<UnsentAlert[]>;
}
