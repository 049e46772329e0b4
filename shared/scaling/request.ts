import * as v from '../valid.js';
import type { ScalingConfig } from '../config/schema.js';
import { echo, EventShapeError, formatIssues } from '../errors.js';
import { RdsEventDetail } from '../rds-events.js';
import type { AlarmEvent, NamedRule } from './model.js';

/** EventBridge detail-type of CloudWatch alarm transitions. */
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';
/** EventBridge detail-type of CloudWatch alarm creations, updates and deletions. */
export const ALARM_CONFIGURATION_CHANGE = 'CloudWatch Alarm Configuration Change';
/** Per-contributor transitions of a multi-time-series (Metrics Insights) alarm. */
export const ALARM_CONTRIBUTOR_STATE_CHANGE = 'CloudWatch Alarm Contributor State Change';

/** The shapes the scaling function accepts, for the error an unknown one gets. */
export const ACCEPTED_SCALING_SHAPES = [
  `EventBridge "${ALARM_STATE_CHANGE}" (source aws.cloudwatch, detail.alarmName)`,
  `EventBridge "${ALARM_CONFIGURATION_CHANGE}" (detail.operation)`,
  'a CloudWatch alarm action invoking Lambda (source aws.cloudwatch, alarmData)',
  'an SNS alarm notification (Records[].Sns.Message)',
  'an RDS "RDS DB Instance Event" failover (RDS-EVENT-0015, RDS-EVENT-0049)',
  '{"action":"run-playbook"|"approve"|"scale-in-check", ...}',
];

// CloudWatch writes `2019-10-02T17:04:40.985+0000` (no colon in the offset), which v.iso.datetime refuses.
const AlarmTime = /* @__PURE__ */ v.onFirstUse(() =>
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

const IsoTime = /* @__PURE__ */ v.onFirstUse(() =>
  v.iso.datetime({
    offset: true,
    message: 'must be an ISO-8601 date-time such as 2026-01-15T10:30:00Z',
  }),
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

/** EventBridge "CloudWatch Alarm Configuration Change": an alarm was created, updated or deleted. */
export const AlarmConfigurationChangeEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.cloudwatch'),
    'detail-type': v.literal(ALARM_CONFIGURATION_CHANGE),
    detail: v.object({
      alarmName: v.string().check(v.minLength(1)),
      operation: v.enum(['create', 'update', 'delete']),
    }),
  }),
);

/** The JSON a CloudWatch alarm publishes to SNS (the `Message` of an SNS record). */
export const SnsAlarmMessage = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    AlarmName: v.string().check(v.minLength(1)),
    NewStateValue: AlarmStateValue,
    OldStateValue: v.optional(AlarmStateValue),
    StateChangeTime: AlarmTime,
    NewStateReason: v.optional(v.string()),
    Trigger: v.optional(v.object({ ComparisonOperator: v.optional(v.string()) })),
  }),
);

/** SNS → Lambda envelope; one record per message in practice, several are accepted. */
export const SnsAlarmEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    Records: v
      .array(
        v.object({
          EventSource: v.literal('aws:sns'),
          Sns: v.object({ Message: v.string(), MessageId: v.optional(v.string()) }),
        }),
      )
      .check(v.minLength(1)),
  }),
);

/** RDS events that move a database under steward's feet: a failover changes its primary. */
export const RDS_FAILOVER_EVENT_IDS = ['RDS-EVENT-0015', 'RDS-EVENT-0049'] as const;

/** EventBridge RDS DB instance event (only the fields steward reads). */
export const RdsInstanceEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.rds'),
    'detail-type': v.literal('RDS DB Instance Event'),
    time: v.optional(v.string()),
    detail: RdsEventDetail,
  }),
);

/** On-demand playbook run (CLI, pipeline, console): the rule of `alarm`, or `rule` by name, as if it fired now. */
export const RunPlaybookEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v
    .strictObject({
      action: v.literal('run-playbook'),
      rule: v.optional(v.string().check(v.minLength(1))),
      alarm: v.optional(v.string().check(v.minLength(1), v.maxLength(255))),
      /** Stamps the run; a retried request with the same value is a duplicate. Defaults to now. */
      requestedAt: v.optional(IsoTime),
      dryRun: v.optional(v.boolean()),
    })
    .check(
      v.refine((e) => (e.rule === undefined) !== (e.alarm === undefined), {
        message: 'give exactly one of rule or alarm',
        path: ['rule'],
      }),
    ),
);

/** Execute an approved change (what `steward approve <id>` sends). */
export const ApproveEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('approve'),
    id: v
      .string()
      .check(v.regex(/^[0-9a-f]{12}$/, 'must be the 12-character approval id from the notification')),
    dryRun: v.optional(v.boolean()),
  }),
);

/**
 * Scheduled: scale in where an alarm has stayed OK long enough, in one account-region. With spokes the
 * schedule starts the scaling fan-out, whose children each send this plus their `target`
 * (shared/fleet/child.ts removes it before this is parsed).
 */
export const ScaleInCheckEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('scale-in-check'),
    scheduledTime: v.optional(IsoTime),
    dryRun: v.optional(v.boolean()),
  }),
);

export const ScalingDirectEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.discriminatedUnion('action', [RunPlaybookEvent, ApproveEvent, ScaleInCheckEvent]),
);

/** An alarm transition paired with the rule that answers it. */
export interface RuleEvent {
  event: AlarmEvent;
  rule: NamedRule;
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

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

const parseWith = <S extends v.Type>(schema: S, raw: unknown, what: string): v.infer<S> => {
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

const answered = (rules: readonly NamedRule[]): string =>
  rules.map((r) => ('name' in r.alarm ? r.alarm.name : `${r.alarm.prefix}*`)).join(', ') || 'none';

const ruleFor = (rules: readonly NamedRule[], alarmName: string, path: string): NamedRule => {
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
const notAhead = (at: Date, clock: EventClock, what: string, path: string): Date => {
  if (at.getTime() > clock.now.getTime() + clock.skewMs)
    throw new EventShapeError(what, [
      `${path}: ${at.toISOString()} is more than ${Math.round(clock.skewMs / 1000)} s ahead of now (${clock.now.toISOString()}): clocks disagree or the event is not CloudWatch's (scaling.clockSkewSeconds)`,
    ]);
  return at;
};

const BAND_OPERATORS = [
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

const unknownShape = (what: string, detail: string): never => {
  throw new EventShapeError(what, [
    `${detail}; steward's scaling function accepts: ${ACCEPTED_SCALING_SHAPES.join('; ')}`,
  ]);
};

/** The rules an alarm name is answered by (exact name or prefix). */
const rulesOf = (rules: readonly NamedRule[], alarmName: string): NamedRule[] => {
  const r = matchRule(rules, alarmName);
  return r ? [r] : [];
};

/** A CloudWatch event (EventBridge or a Lambda alarm action) as a request. */
const parseCloudWatch = (
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
    return {
      action: 'alarms',
      items: [{ event, rule: ruleFor(rules, event.alarmName, 'alarmData.alarmName') }],
      dryRun: false,
    };
  }
  const type = raw['detail-type'];
  if (type === ALARM_STATE_CHANGE) {
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
  }
  if (type === ALARM_CONFIGURATION_CHANGE) {
    const e = parseWith(AlarmConfigurationChangeEvent, raw, 'Invalid CloudWatch alarm configuration change');
    return {
      action: 'alarm-config',
      alarmName: e.detail.alarmName,
      operation: e.detail.operation,
      rules: rulesOf(rules, e.detail.alarmName).map((r) => r.name),
      dryRun: false,
    };
  }
  if (type === ALARM_CONTRIBUTOR_STATE_CHANGE) {
    const name =
      isObject(raw.detail) && typeof raw.detail.alarmName === 'string' ? raw.detail.alarmName : '?';
    return {
      action: 'ignored',
      reason: `a per-contributor transition of multi-time-series alarm ${name}: steward answers the alarm's own "${ALARM_STATE_CHANGE}"`,
      dryRun: false,
    };
  }
  return unknownShape(
    'Not a CloudWatch alarm state change',
    `detail-type: "${String(type)}" is not a state change`,
  );
};

/** An RDS instance event: a failover of a database the rules name restarts its cooldown. */
const parseRds = (raw: unknown, rules: readonly NamedRule[], clock: EventClock): ScalingRequest => {
  const e = parseWith(RdsInstanceEvent, raw, 'Invalid RDS event');
  const d = e.detail;
  // The documented example names the instance `rds:<id>` in SourceIdentifier; the ARN's last part is the id.
  const id = d.SourceArn?.split(':').at(-1) ?? d.SourceIdentifier.replace(/^rds:/, '');
  const eventId = d.EventID ?? '(none)';
  if (!(RDS_FAILOVER_EVENT_IDS as readonly string[]).includes(eventId))
    return { action: 'ignored', reason: `RDS event ${eventId} on ${id} is not a failover`, dryRun: false };
  const named = rules.filter((r) => r.resource === id && r.kind !== 'elasticache');
  if (!named.length)
    return { action: 'ignored', reason: `${id} is not a resource of any scaling rule`, dryRun: false };
  const when = new Date(d.Date ?? e.time ?? clock.now.toISOString());
  if (Number.isNaN(when.getTime()))
    throw new EventShapeError('Invalid RDS event', ['detail.Date: must be an ISO-8601 time']);
  return {
    action: 'failover',
    resource: id,
    eventId,
    at: notAhead(when, clock, 'Invalid RDS event', 'detail.Date'),
    rules: named,
    dryRun: false,
  };
};

/**
 * Parse any scaling trigger into one ScalingRequest: an EventBridge alarm state or configuration change, a
 * CloudWatch Lambda alarm action, an SNS-delivered alarm notification, an RDS failover event, or a direct
 * payload. Malformed input, an event from the future, or an alarm no rule answers, throws one EventShapeError
 * naming the field path, before anything is read or changed.
 */
export const parseScalingRequest = (raw: unknown, scaling: ScalingConfig, now: Date): ScalingRequest => {
  const rules = namedRules(scaling);
  const clock: EventClock = { now, skewMs: scaling.clockSkewSeconds * 1000 };
  if (isObject(raw) && raw.source === 'aws.cloudwatch') return parseCloudWatch(raw, rules, clock);
  if (isObject(raw) && raw.source === 'aws.rds') return parseRds(raw, rules, clock);
  if (isObject(raw) && 'source' in raw && !('action' in raw))
    return unknownShape(
      'Unrecognised scaling event',
      `source: "${String(raw.source)}" is not one steward reads`,
    );
  if (isObject(raw) && 'Records' in raw) {
    const e = parseWith(SnsAlarmEvent, raw, 'Invalid SNS event');
    const items = e.Records.map((r, i): RuleEvent => {
      let body: unknown;
      try {
        body = JSON.parse(r.Sns.Message);
      } catch {
        throw new EventShapeError('Invalid SNS alarm notification', [
          `Records.${i}.Sns.Message: is not JSON (not a CloudWatch alarm notification)`,
        ]);
      }
      const what = `Invalid CloudWatch alarm notification in Records.${i}.Sns.Message`;
      const m = parseWith(SnsAlarmMessage, body, what);
      const comparison = m.Trigger?.ComparisonOperator;
      const event: AlarmEvent = {
        alarmName: m.AlarmName,
        state: m.NewStateValue,
        ...(m.OldStateValue ? { previousState: m.OldStateValue } : {}),
        at: notAhead(m.StateChangeTime, clock, what, `Records.${i}.Sns.Message.StateChangeTime`),
        source: 'sns',
        ...(m.NewStateReason ? { reason: m.NewStateReason } : {}),
        ...(comparison ? { comparison } : {}),
        ...(comparison && BAND_OPERATORS.includes(comparison) ? { band: true } : {}),
      };
      return { event, rule: ruleFor(rules, m.AlarmName, `Records.${i}.Sns.Message.AlarmName`) };
    });
    return { action: 'alarms', items, dryRun: false };
  }
  if (!isObject(raw) || !('action' in raw))
    return unknownShape(
      'Unrecognised scaling event',
      '(root): neither an event steward reads nor a direct payload',
    );
  const e = parseWith(ScalingDirectEvent, raw, 'Invalid scaling request');
  switch (e.action) {
    case 'run-playbook': {
      let rule: NamedRule;
      if (e.rule !== undefined) {
        const found = rules.find((r) => r.name === e.rule);
        if (!found)
          throw new EventShapeError(`Unknown scaling rule ${echo(e.rule)}`, [
            `rule: not in scaling.rules (known: ${rules.map((r) => r.name).join(', ') || 'none'})`,
          ]);
        rule = found;
      } else {
        rule = ruleFor(rules, e.alarm!, 'alarm');
      }
      const alarmName = e.alarm ?? ('name' in rule.alarm ? rule.alarm.name : `playbook:${rule.name}`);
      const requested = e.requestedAt ? new Date(e.requestedAt) : undefined;
      // An on-demand run happens now: its stamp only dedups retries of the same request.
      if (requested && Math.abs(requested.getTime() - now.getTime()) > clock.skewMs)
        throw new EventShapeError('Invalid scaling request', [
          `requestedAt: must be within ${Math.round(clock.skewMs / 1000)} s of now (${requested.toISOString()}, now ${now.toISOString()}) (scaling.clockSkewSeconds)`,
        ]);
      const event: AlarmEvent = {
        alarmName,
        state: 'ALARM',
        at: requested ?? now,
        source: 'direct',
        reason: 'on-demand playbook run',
      };
      return { action: 'alarms', items: [{ event, rule }], dryRun: e.dryRun ?? false };
    }
    case 'approve':
      return { action: 'approve', id: e.id, dryRun: e.dryRun ?? false };
    case 'scale-in-check':
      return { action: 'scale-in-check', dryRun: e.dryRun ?? false };
  }
};
