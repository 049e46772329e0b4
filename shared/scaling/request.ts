import * as v from '../valid.js';
import type { ScalingConfig } from '../config/schema.js';
import { echo, EventShapeError } from '../errors.js';
import { RdsEventDetail } from '../rds-events.js';
import {
  ALARM_STATE_CHANGE,
  AlarmTime,
  AlarmStateValue,
  alarmRequest,
  BAND_OPERATORS,
  clockOf,
  type EventClock,
  isAlarmTransition,
  isObject,
  matchRule,
  namedRules,
  notAhead,
  parseWith,
  ruleFor,
  type RuleEvent,
  type ScalingRequest,
} from './alarm-event.js';
import type { AlarmEvent, NamedRule } from './model.js';

export {
  ALARM_STATE_CHANGE,
  AlarmStateChangeEvent,
  AlarmStateValue,
  breachOf,
  type EventClock,
  LambdaAlarmActionEvent,
  matchRule,
  namedRules,
  type RuleEvent,
  type ScalingRequest,
} from './alarm-event.js';

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

const IsoTime = /* @__PURE__ */ v.onFirstUse(() =>
  v.iso.datetime({
    offset: true,
    message: 'must be an ISO-8601 date-time such as 2026-01-15T10:30:00Z',
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

/** RDS instance events that move a database under steward's feet: a Multi-AZ failover changes its primary. */
export const RDS_FAILOVER_EVENT_IDS = ['RDS-EVENT-0015', 'RDS-EVENT-0049'] as const;

/**
 * The DB cluster event of a completed failover (Aurora, Multi-AZ DB clusters): a new writer (RDS and Aurora
 * User Guides, DB cluster events). A failover that has only started (-0072, -0073) or failed (-0069) has not
 * moved the writer; the backup function tells those.
 */
export const RDS_CLUSTER_FAILOVER_EVENT_IDS = ['RDS-EVENT-0071'] as const;

/** EventBridge RDS DB instance or cluster event (only the fields steward reads). */
export const RdsDatabaseEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.rds'),
    'detail-type': v.enum(['RDS DB Instance Event', 'RDS DB Cluster Event']),
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
  if (isAlarmTransition(raw)) return alarmRequest(raw, rules, clock);
  const type = raw['detail-type'];
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

/**
 * An RDS instance or cluster event: a failover of a database the rules name restarts its cooldown. An instance
 * event is about the rules on that instance, a cluster event about the rules on that cluster (they may share a
 * name).
 */
const parseRds = (raw: unknown, rules: readonly NamedRule[], clock: EventClock): ScalingRequest => {
  const e = parseWith(RdsDatabaseEvent, raw, 'Invalid RDS event');
  const d = e.detail;
  // The documented example names the instance `rds:<id>` in SourceIdentifier; the ARN's last part is the id.
  const id = d.SourceArn?.split(':').at(-1) ?? d.SourceIdentifier.replace(/^rds:/, '');
  const eventId = d.EventID ?? '(none)';
  const cluster = e['detail-type'] === 'RDS DB Cluster Event';
  const failovers: readonly string[] = cluster ? RDS_CLUSTER_FAILOVER_EVENT_IDS : RDS_FAILOVER_EVENT_IDS;
  if (!failovers.includes(eventId))
    return { action: 'ignored', reason: `RDS event ${eventId} on ${id} is not a failover`, dryRun: false };
  const kind = cluster ? 'aurora-cluster' : 'rds-instance';
  const named = rules.filter((r) => r.resource === id && r.kind === kind);
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
  const clock = clockOf(scaling, now);
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
