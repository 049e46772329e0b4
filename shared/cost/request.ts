import * as v from '../valid.js';
import { EventShapeError, formatIssues } from '../errors.js';
import type { CostAnomaly } from './ports.js';

/**
 * A scheduled or on-demand check. EventBridge Scheduler sends
 * `{"action":"cost-check","scheduledTime":"<aws.scheduler.scheduled-time>"}`; the CLI may add `dryRun`.
 * Strict: a misspelt field fails loudly.
 */
export const CostCheckRequest = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('cost-check'),
    scheduledTime: v.optional(v.iso.datetime({ offset: true })),
    /** Evaluate and report only: no alert is claimed or sent. */
    dryRun: v.optional(v.boolean()),
  }),
);
export type CostCheckRequest = v.infer<typeof CostCheckRequest>;

// Amounts are JSON numbers in the documented events; a numeric string is accepted too, anything else is not.
const Usd = /* @__PURE__ */ v.onFirstUse(() =>
  v.union([
    v.number(),
    v.pipe(v.string().check(v.regex(/^-?\d+(\.\d+)?$/, 'must be a number')), v.transform(Number)),
  ]),
);

const RootCause = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    service: v.optional(v.string()),
    region: v.optional(v.string()),
    linkedAccount: v.optional(v.string()),
    linkedAccountName: v.optional(v.string()),
    usageType: v.optional(v.string()),
    impact: v.optional(v.object({ contribution: Usd })),
  }),
);

/**
 * The anomaly as Cost Anomaly Detection delivers it: the EventBridge `detail`, or the SNS message body.
 * The two differ in one name: `dimensionValue` (EventBridge) vs `dimensionalValue` (SNS).
 * https://docs.aws.amazon.com/cost-management/latest/userguide/cad-eventbridge.html
 * https://docs.aws.amazon.com/cost-management/latest/userguide/manage-ad.html (SNS example)
 */
export const AnomalyDetail = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    anomalyId: v.string().check(v.minLength(1)),
    anomalyStartDate: v.optional(v.string()),
    anomalyEndDate: v.optional(v.string()),
    dimensionValue: v.optional(v.string()),
    dimensionalValue: v.optional(v.string()),
    impact: v.object({
      maxImpact: Usd,
      totalImpact: v.optional(Usd),
      totalActualSpend: v.optional(Usd),
      totalExpectedSpend: v.optional(Usd),
      totalImpactPercentage: v.optional(Usd),
    }),
    rootCauses: v._default(v.array(RootCause), []),
    accountId: v.optional(v.string()),
    monitorArn: v.optional(v.string()),
    monitorName: v.optional(v.string()),
    anomalyDetailsLink: v.optional(v.url()),
  }),
);
export type AnomalyDetail = v.infer<typeof AnomalyDetail>;

/** EventBridge rule target input: source `aws.ce`, detail-type `Anomaly Detected`. */
export const AnomalyDetectedEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.ce'),
    'detail-type': v.literal('Anomaly Detected'),
    account: v.optional(v.string()),
    detail: AnomalyDetail,
  }),
);

/** Lambda's SNS event: the anomaly subscription's message is a JSON string in `Sns.Message`. */
export const SnsEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    Records: v
      .array(
        v.object({
          EventSource: v.literal('aws:sns'),
          Sns: v.object({ Message: v.string().check(v.minLength(1)), TopicArn: v.optional(v.string()) }),
        }),
      )
      .check(v.minLength(1)),
  }),
);

/** Console page of an anomaly, from its monitor ARN (`arn:aws:ce::<account>:anomalymonitor/<id>`). */
export const anomalyConsoleLink = (anomalyId: string, monitorArn?: string): string => {
  const monitor = monitorArn?.split('/').pop();
  return monitor
    ? `https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/${monitor}/anomalies/${anomalyId}`
    : 'https://console.aws.amazon.com/cost-management/home#/anomaly-detection/overview';
};

/** Plain anomaly from an event detail or SNS message. */
export const toCostAnomaly = (d: AnomalyDetail, via: CostAnomaly['via'], account?: string): CostAnomaly => {
  const dimension = d.dimensionValue ?? d.dimensionalValue;
  const accountId = d.accountId ?? account;
  return {
    id: d.anomalyId,
    via,
    ...(d.anomalyStartDate && { startDate: d.anomalyStartDate }),
    ...(d.anomalyEndDate && { endDate: d.anomalyEndDate }),
    ...(dimension && { dimension }),
    impactUsd: d.impact.totalImpact ?? d.impact.maxImpact,
    maxImpactUsd: d.impact.maxImpact,
    ...(d.impact.totalActualSpend !== undefined && { actualUsd: d.impact.totalActualSpend }),
    ...(d.impact.totalExpectedSpend !== undefined && { expectedUsd: d.impact.totalExpectedSpend }),
    ...(d.impact.totalImpactPercentage !== undefined && { impactPercent: d.impact.totalImpactPercentage }),
    ...(d.monitorArn && { monitorArn: d.monitorArn }),
    ...(d.monitorName && { monitorName: d.monitorName }),
    ...(accountId && { accountId }),
    rootCauses: d.rootCauses.map((r) => ({
      ...(r.service && { service: r.service }),
      ...(r.region && { region: r.region }),
      ...(r.linkedAccount && { linkedAccount: r.linkedAccount }),
      ...(r.linkedAccountName && { linkedAccountName: r.linkedAccountName }),
      ...(r.usageType && { usageType: r.usageType }),
      ...(r.impact && { contributionUsd: r.impact.contribution }),
    })),
    link: d.anomalyDetailsLink ?? anomalyConsoleLink(d.anomalyId, d.monitorArn),
  };
};

/** What the cost function was invoked with. */
export type CostTrigger =
  { kind: 'check'; request: CostCheckRequest } | { kind: 'anomalies'; anomalies: CostAnomaly[] };

const fail = (what: string, issues: readonly { path: readonly PropertyKey[]; message: string }[]) =>
  new EventShapeError(what, formatIssues(issues));

/**
 * Tell a check request from an anomaly event (EventBridge or SNS-wrapped) and parse it. Anything else, or a
 * malformed anomaly, throws EventShapeError naming every bad field path: nothing is read and nothing sent.
 */
export const parseCostTrigger = (raw: unknown): CostTrigger => {
  const o = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  if ('action' in o) {
    const r = CostCheckRequest.safeParse(raw);
    if (!r.success) throw fail('Invalid cost request', r.error.issues);
    return { kind: 'check', request: r.data };
  }
  if ('source' in o || 'detail-type' in o) {
    const r = AnomalyDetectedEvent.safeParse(raw);
    if (!r.success) throw fail('Invalid Cost Anomaly Detection event', r.error.issues);
    return { kind: 'anomalies', anomalies: [toCostAnomaly(r.data.detail, 'eventbridge', r.data.account)] };
  }
  if ('Records' in o) {
    const r = SnsEvent.safeParse(raw);
    if (!r.success) throw fail('Invalid SNS anomaly event', r.error.issues);
    const anomalies = r.data.Records.map((rec, i) => {
      let message: unknown;
      try {
        message = JSON.parse(rec.Sns.Message);
      } catch {
        throw fail('Invalid SNS anomaly event', [
          {
            path: ['Records', i, 'Sns', 'Message'],
            message: 'is not JSON (expected a Cost Anomaly Detection alert)',
          },
        ]);
      }
      const d = AnomalyDetail.safeParse(message);
      if (!d.success) {
        throw fail(
          'Invalid SNS anomaly event',
          d.error.issues.map((x) => ({ ...x, path: ['Records', i, 'Sns', 'Message', ...x.path] })),
        );
      }
      return toCostAnomaly(d.data, 'sns');
    });
    return { kind: 'anomalies', anomalies };
  }
  throw new EventShapeError('Unrecognised cost trigger', [
    '(root): expected {"action":"cost-check"}, an EventBridge "Anomaly Detected" event or an SNS-wrapped anomaly alert',
  ]);
};
