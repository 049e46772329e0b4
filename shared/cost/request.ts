import * as z from '../zod.js';
import { EventShapeError, formatIssues } from '../errors.js';
import type { CostAnomaly } from './ports.js';

/**
 * A scheduled or on-demand check. EventBridge Scheduler sends
 * `{"action":"cost-check","scheduledTime":"<aws.scheduler.scheduled-time>"}`; the CLI may add `dryRun`.
 * Strict: a misspelt field fails loudly.
 */
export const CostCheckRequest = /* @__PURE__ */ z.onFirstUse(() =>
  z.strictObject({
    action: z.literal('cost-check'),
    scheduledTime: z.optional(z.iso.datetime({ offset: true })),
    /** Evaluate and report only: no alert is claimed or sent. */
    dryRun: z.optional(z.boolean()),
  }),
);
export type CostCheckRequest = z.infer<typeof CostCheckRequest>;

// Amounts are JSON numbers in the documented events; a numeric string is accepted too, anything else is not.
const Usd = /* @__PURE__ */ z.onFirstUse(() =>
  z.union([
    z.number(),
    z.pipe(z.string().check(z.regex(/^-?\d+(\.\d+)?$/, 'must be a number')), z.transform(Number)),
  ]),
);

const RootCause = /* @__PURE__ */ z.onFirstUse(() =>
  z.object({
    service: z.optional(z.string()),
    region: z.optional(z.string()),
    linkedAccount: z.optional(z.string()),
    linkedAccountName: z.optional(z.string()),
    usageType: z.optional(z.string()),
    impact: z.optional(z.object({ contribution: Usd })),
  }),
);

/**
 * The anomaly as Cost Anomaly Detection delivers it: the EventBridge `detail`, or the SNS message body.
 * The two differ in one name: `dimensionValue` (EventBridge) vs `dimensionalValue` (SNS).
 * https://docs.aws.amazon.com/cost-management/latest/userguide/cad-eventbridge.html
 * https://docs.aws.amazon.com/cost-management/latest/userguide/manage-ad.html (SNS example)
 */
export const AnomalyDetail = /* @__PURE__ */ z.onFirstUse(() =>
  z.object({
    anomalyId: z.string().check(z.minLength(1)),
    anomalyStartDate: z.optional(z.string()),
    anomalyEndDate: z.optional(z.string()),
    dimensionValue: z.optional(z.string()),
    dimensionalValue: z.optional(z.string()),
    impact: z.object({
      maxImpact: Usd,
      totalImpact: z.optional(Usd),
      totalActualSpend: z.optional(Usd),
      totalExpectedSpend: z.optional(Usd),
      totalImpactPercentage: z.optional(Usd),
    }),
    rootCauses: z._default(z.array(RootCause), []),
    accountId: z.optional(z.string()),
    monitorArn: z.optional(z.string()),
    monitorName: z.optional(z.string()),
    anomalyDetailsLink: z.optional(z.url()),
  }),
);
export type AnomalyDetail = z.infer<typeof AnomalyDetail>;

/** EventBridge rule target input: source `aws.ce`, detail-type `Anomaly Detected`. */
export const AnomalyDetectedEvent = /* @__PURE__ */ z.onFirstUse(() =>
  z.object({
    source: z.literal('aws.ce'),
    'detail-type': z.literal('Anomaly Detected'),
    account: z.optional(z.string()),
    detail: AnomalyDetail,
  }),
);

/** Lambda's SNS event: the anomaly subscription's message is a JSON string in `Sns.Message`. */
const SnsEvent = /* @__PURE__ */ z.onFirstUse(() =>
  z.object({
    Records: z
      .array(
        z.object({
          EventSource: z.literal('aws:sns'),
          Sns: z.object({ Message: z.string().check(z.minLength(1)), TopicArn: z.optional(z.string()) }),
        }),
      )
      .check(z.minLength(1)),
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
