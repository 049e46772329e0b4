import * as v from '../valid.js';
import type { ScalingConfig } from '../config/schema.js';
import { echo, EventShapeError, formatIssues } from '../errors.js';
import { firstOf } from '../notify/budget.js';
import type { AlarmEvent, LiveAlarmState, NamedRule, ResourceWait } from './model.js';

// An alarm's transition, the trigger scaling exists for: its EventBridge event or its Lambda alarm action,
// parsed here without the schemas of every other trigger (request.ts, imported for those).

/** EventBridge detail-type of CloudWatch alarm transitions. */
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

// CloudWatch writes `2019-10-02T17:04:40.985+0000` (no colon in the offset), which v.iso.datetime refuses.
export const AlarmTime = /* @__PURE__ */ v.onFirstUse(() =>
  v
    .pipe(
      v
        .string()
        .check(
          v.regex(
            /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/,
            'must be an ISO-8601 time such as 2026-01-15T10:30:00.000+0000',
          ),
        ),
      v.transform((v) => new Date(v)),
    )
    .check(v.refine((d) => !Number.isNaN(d.getTime()), 'must be a real date and time')),
);

export const AlarmStateValue = /* @__PURE__ */ v.onFirstUse(() =>
  v.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
);

const MuteDetail = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    mutedByArn: v.string().check(v.minLength(1)),
    muteWindowStart: AlarmTime,
    muteWindowEnd: AlarmTime,
  }),
);

const AlarmState = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    value: AlarmStateValue,
    timestamp: AlarmTime,
    reason: v.optional(v.string()),
    reasonData: v.optional(v.string()),
    /** Composite alarms: CloudWatch holds the actions back (`WaitPeriod`, `ExtensionPeriod`, `Alarm`). */
    actionsSuppressedBy: v.optional(v.string().check(v.minLength(1))),
    actionsSuppressedReason: v.optional(v.string()),
  }),
);

// The alarm's definition as the event carries it: metric queries (an anomaly band is an expression).
const AlarmConfiguration = /* @__PURE__ */ v.onFirstUse(() =>
  v.optional(
    v.object({
      metrics: v.optional(v.array(v.object({ expression: v.optional(v.string()) }))),
      comparisonOperator: v.optional(v.string()),
    }),
  ),
);

const AlarmDetail = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    alarmName: v.string().check(v.minLength(1)),
    state: AlarmState,
    previousState: v.optional(v.object({ value: AlarmStateValue })),
    configuration: AlarmConfiguration,
    /** An alarm mute rule covered the transition (documented on every alarm type's event). */
    muteDetail: v.optional(MuteDetail),
  }),
);

/** EventBridge "CloudWatch Alarm State Change" (only the fields steward reads). */
export const AlarmStateChangeEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.cloudwatch'),
    'detail-type': v.literal(ALARM_STATE_CHANGE),
    detail: AlarmDetail,
  }),
);

/** CloudWatch invoking the function as an alarm action: `alarmData` instead of `detail`, no detail-type. */
export const LambdaAlarmActionEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.cloudwatch'),
    alarmArn: v.string().check(v.minLength(1)),
    alarmData: AlarmDetail,
  }),
);

/** An alarm transition paired with the rule that answers it. */
export interface RuleEvent {
  event: AlarmEvent;
  rule: NamedRule;
  /**
   * The scale-in check's confirmation: the alarm's state as CloudWatch says now (null: CloudWatch has no
   * such alarm). Undefined when nothing was asked (a live transition, an OK not held long enough yet).
   */
  live?: LiveAlarmState | null;
  /** The scale-in check's: the wait on a transient state noted for this OK period (transition.ts). */
  wait?: ResourceWait;
}

/** The one typed request every trigger becomes. */
export type ScalingRequest =
  | { action: 'alarms'; items: RuleEvent[]; dryRun: boolean }
  | { action: 'approve'; id: string; dryRun: boolean }
  | { action: 'scale-in-check'; dryRun: boolean }
  /** A configured alarm was created, updated or deleted (deleted: its rules can no longer fire). */
  | {
      action: 'alarm-config';
      alarmName: string;
      operation: 'create' | 'update' | 'delete';
      rules: string[];
      dryRun: boolean;
    }
  /** A database the rules name failed over: its cooldown restarts from the failover. */
  | { action: 'failover'; resource: string; eventId: string; at: Date; rules: NamedRule[]; dryRun: boolean }
  /** Received, understood, and not for scaling: logged with the reason. */
  | { action: 'ignored'; reason: string; dryRun: boolean };

export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

export const parseWith = <S extends v.Type>(schema: S, raw: unknown, what: string): v.infer<S> => {
  const r = schema.safeParse(raw);
  if (!r.success) throw new EventShapeError(what, formatIssues(r.error.issues));
  return r.data;
};

/** The rules as named rules. */
export const namedRules = (scaling: ScalingConfig): NamedRule[] =>
  Object.entries(scaling.rules).map(([name, r]) => ({ ...r, name }));

/** The rule answering an alarm: an exact name wins over prefixes, the longest prefix over shorter ones. */
export const matchRule = (rules: readonly NamedRule[], alarmName: string): NamedRule | undefined =>
  rules.find((r) => 'name' in r.alarm && r.alarm.name === alarmName) ??
  rules
    .filter((r) => 'prefix' in r.alarm && alarmName.startsWith(r.alarm.prefix))
    .sort(
      (a, b) =>
        ('prefix' in b.alarm ? b.alarm.prefix.length : 0) - ('prefix' in a.alarm ? a.alarm.prefix.length : 0),
    )[0];

/** The alarms the rules answer, by name or `prefix*`: the first ten, then how many more. */
export const answered = (rules: readonly NamedRule[]): string =>
  firstOf(rules.map((r) => ('name' in r.alarm ? r.alarm.name : `${r.alarm.prefix}*`))) || 'none';

export const ruleFor = (rules: readonly NamedRule[], alarmName: string, path: string): NamedRule => {
  const rule = matchRule(rules, alarmName);
  if (!rule)
    throw new EventShapeError(`No scaling rule for alarm ${echo(alarmName)}`, [
      `${path}: ${echo(alarmName)} matches no rule in scaling.rules (alarms answered: ${answered(rules)})`,
    ]);
  return rule;
};

/** Where the event's timestamps may be relative to now. */
export interface EventClock {
  now: Date;
  /** A state time further ahead than this is refused. */
  skewMs: number;
}

/** An alarm's state time: in the past (redeliveries are late, never early), or within the skew ahead. */
export const notAhead = (at: Date, clock: EventClock, what: string, path: string): Date => {
  if (at.getTime() > clock.now.getTime() + clock.skewMs)
    throw new EventShapeError(what, [
      `${path}: ${at.toISOString()} is more than ${Math.round(clock.skewMs / 1000)} s ahead of now (${clock.now.toISOString()}): clocks disagree or the event is not CloudWatch's (scaling.clockSkewSeconds)`,
    ]);
  return at;
};

export const BAND_OPERATORS = [
  'LessThanLowerOrGreaterThanUpperThreshold',
  'LessThanLowerThreshold',
  'GreaterThanUpperThreshold',
];

/** Which side of an anomaly band the datapoints are on, from `reasonData`; undefined when it does not say. */
export const breachOf = (reasonData: string | undefined): 'above' | 'below' | undefined => {
  if (!reasonData) return undefined;
  let d: unknown;
  try {
    d = JSON.parse(reasonData);
  } catch {
    return undefined;
  }
  if (!isObject(d)) return undefined;
  const nums = (k: string) =>
    Array.isArray(d[k]) ? (d[k] as unknown[]).filter((x): x is number => typeof x === 'number') : [];
  const points = nums('recentDatapoints');
  const lower = nums('recentLowerThresholds');
  const upper = nums('recentUpperThresholds');
  const sides = new Set<'above' | 'below'>();
  points.forEach((p, i) => {
    if (lower[i] !== undefined && p < lower[i]) sides.add('below');
    if (upper[i] !== undefined && p > upper[i]) sides.add('above');
  });
  return sides.size === 1 ? [...sides][0] : undefined;
};

/** One alarm transition from the detail of an EventBridge event or the alarmData of a Lambda action. */
const alarmEventOf = (
  d: v.infer<typeof AlarmDetail>,
  source: AlarmEvent['source'],
  clock: EventClock,
  what: string,
  path: string,
): AlarmEvent => {
  const band =
    (d.configuration?.metrics ?? []).some((m) => /ANOMALY_DETECTION_BAND\s*\(/i.test(m.expression ?? '')) ||
    BAND_OPERATORS.includes(d.configuration?.comparisonOperator ?? '');
  const breach = breachOf(d.state.reasonData);
  return {
    alarmName: d.alarmName,
    state: d.state.value,
    ...(d.previousState ? { previousState: d.previousState.value } : {}),
    at: notAhead(d.state.timestamp, clock, what, `${path}.state.timestamp`),
    source,
    ...(d.state.reason ? { reason: d.state.reason } : {}),
    ...(d.state.actionsSuppressedBy ? { suppressedBy: d.state.actionsSuppressedBy } : {}),
    ...(d.muteDetail
      ? {
          mute: {
            ruleArn: d.muteDetail.mutedByArn,
            start: d.muteDetail.muteWindowStart,
            end: d.muteDetail.muteWindowEnd,
          },
        }
      : {}),
    ...(band || breach ? { band: true } : {}),
    ...(breach ? { breach } : {}),
    ...(d.configuration?.comparisonOperator ? { comparison: d.configuration.comparisonOperator } : {}),
  };
};

/** Whether a trigger is an alarm's transition: EventBridge's state change or a Lambda alarm action. */
export const isAlarmTransition = (raw: unknown): boolean =>
  isObject(raw) &&
  raw.source === 'aws.cloudwatch' &&
  ('alarmData' in raw || raw['detail-type'] === ALARM_STATE_CHANGE);

/** An alarm's transition (`isAlarmTransition`) as a request, with the rule that answers it. */
export const alarmRequest = (
  raw: Record<string, unknown>,
  rules: readonly NamedRule[],
  clock: EventClock,
): ScalingRequest => {
  if ('alarmData' in raw) {
    const e = parseWith(LambdaAlarmActionEvent, raw, 'Invalid CloudWatch Lambda alarm action event');
    const event = alarmEventOf(
      e.alarmData,
      'lambda-action',
      clock,
      'Invalid CloudWatch Lambda alarm action event',
      'alarmData',
    );
    const rule = matchRule(rules, event.alarmName);
    // The function's resource policy lets the stage's alarms invoke it by name prefix (infra/scaling.ts), not
    // each rule's alarm by name: an alarm whose actions name the function and that no rule answers is not
    // steward's business. Said and ignored, not thrown: an error would be retried and parked as a failure.
    if (!rule)
      return {
        action: 'ignored',
        reason: `alarm ${echo(event.alarmName)} (${e.alarmArn}) invoked the function as its alarm action, but none of the ${rules.length} rules in scaling.rules answers it: nothing done`,
        dryRun: false,
      };
    return { action: 'alarms', items: [{ event, rule }], dryRun: false };
  }
  const e = parseWith(AlarmStateChangeEvent, raw, 'Invalid CloudWatch alarm state change event');
  const event = alarmEventOf(
    e.detail,
    'eventbridge',
    clock,
    'Invalid CloudWatch alarm state change event',
    'detail',
  );
  return {
    action: 'alarms',
    items: [{ event, rule: ruleFor(rules, event.alarmName, 'detail.alarmName') }],
    dryRun: false,
  };
};

/** Where the event's timestamps may be relative to now, by the stage's scaling config. */
export const clockOf = (scaling: ScalingConfig, now: Date): EventClock => ({
  now,
  skewMs: scaling.clockSkewSeconds * 1000,
});

/**
 * Parse an alarm's transition (`isAlarmTransition`) as parseScalingRequest (request.ts) does: malformed
 * input, a state time from the future, or an alarm no rule answers, throws one EventShapeError naming the
 * field path, before anything is read or changed.
 */
export const parseAlarmTransition = (
  raw: Record<string, unknown>,
  scaling: ScalingConfig,
  now: Date,
): ScalingRequest => alarmRequest(raw, namedRules(scaling), clockOf(scaling, now));
