import * as z from '../zod.js';
import type { ScalingConfig } from '../config/schema.js';
import { EventShapeError, formatIssues } from '../errors.js';
import type { AlarmEvent, NamedRule } from './model.js';

// CloudWatch writes `2019-10-02T17:04:40.985+0000` (no colon in the offset), which z.iso.datetime refuses.
const AlarmTime = z
  .pipe(
    z
      .string()
      .check(
        z.regex(
          /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/,
          'must be an ISO-8601 time such as 2026-01-15T10:30:00.000+0000',
        ),
      ),
    z.transform((v) => new Date(v)),
  )
  .check(z.refine((d) => !Number.isNaN(d.getTime()), 'must be a real date and time'));

const IsoTime = z.iso.datetime({
  offset: true,
  message: 'must be an ISO-8601 date-time such as 2026-01-15T10:30:00Z',
});

export const AlarmStateValue = z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']);

/** EventBridge "CloudWatch Alarm State Change" (only the fields steward reads). */
export const AlarmStateChangeEvent = z.object({
  source: z.literal('aws.cloudwatch'),
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  detail: z.object({
    alarmName: z.string().check(z.minLength(1)),
    state: z.object({ value: AlarmStateValue, timestamp: AlarmTime, reason: z.optional(z.string()) }),
    previousState: z.optional(z.object({ value: AlarmStateValue })),
  }),
});

/** The JSON a CloudWatch alarm publishes to SNS (the `Message` of an SNS record). */
export const SnsAlarmMessage = z.object({
  AlarmName: z.string().check(z.minLength(1)),
  NewStateValue: AlarmStateValue,
  OldStateValue: z.optional(AlarmStateValue),
  StateChangeTime: AlarmTime,
  NewStateReason: z.optional(z.string()),
});

/** SNS → Lambda envelope; one record per message in practice, several are accepted. */
export const SnsAlarmEvent = z.object({
  Records: z
    .array(
      z.object({
        EventSource: z.literal('aws:sns'),
        Sns: z.object({ Message: z.string(), MessageId: z.optional(z.string()) }),
      }),
    )
    .check(z.minLength(1)),
});

/** On-demand playbook run (CLI, pipeline, console): the rule of `alarm`, or `rule` by name, as if it fired now. */
export const RunPlaybookEvent = z
  .strictObject({
    action: z.literal('run-playbook'),
    rule: z.optional(z.string().check(z.minLength(1))),
    alarm: z.optional(z.string().check(z.minLength(1), z.maxLength(255))),
    /** Stamps the run; a retried request with the same value is a duplicate. Defaults to now. */
    requestedAt: z.optional(IsoTime),
    dryRun: z.optional(z.boolean()),
  })
  .check(
    z.refine((e) => (e.rule === undefined) !== (e.alarm === undefined), {
      message: 'give exactly one of rule or alarm',
      path: ['rule'],
    }),
  );

/** Execute an approved change (what `steward approve <id>` sends). */
export const ApproveEvent = z.strictObject({
  action: z.literal('approve'),
  id: z
    .string()
    .check(z.regex(/^[0-9a-f]{12}$/, 'must be the 12-character approval id from the notification')),
  dryRun: z.optional(z.boolean()),
});

/** Scheduled: scale in where an alarm has stayed OK long enough. */
export const ScaleInCheckEvent = z.strictObject({
  action: z.literal('scale-in-check'),
  scheduledTime: z.optional(IsoTime),
  dryRun: z.optional(z.boolean()),
});

export const ScalingDirectEvent = z.discriminatedUnion('action', [
  RunPlaybookEvent,
  ApproveEvent,
  ScaleInCheckEvent,
]);

/** An alarm transition paired with the rule that answers it. */
export interface RuleEvent {
  event: AlarmEvent;
  rule: NamedRule;
}

/** The one typed request every trigger becomes. */
export type ScalingRequest =
  | { action: 'alarms'; items: RuleEvent[]; dryRun: boolean }
  | { action: 'approve'; id: string; dryRun: boolean }
  | { action: 'scale-in-check'; dryRun: boolean };

const parseWith = <S extends z.ZodMiniType>(schema: S, raw: unknown, what: string): z.infer<S> => {
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
    throw new EventShapeError(`No scaling rule for alarm "${alarmName}"`, [
      `${path}: "${alarmName}" matches no rule in scaling.rules (alarms answered: ${answered(rules)})`,
    ]);
  return rule;
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/**
 * How far a request's time may be from now. A transition timestamp becomes the resource's "last acted on"
 * time, which orders every later event: one far in the future would block the database for as long.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** An alarm's state time: in the past (redeliveries are late, never early), or within the skew ahead. */
const notAhead = (at: Date, now: Date, what: string, path: string): Date => {
  if (at.getTime() > now.getTime() + CLOCK_SKEW_MS)
    throw new EventShapeError(what, [
      `${path}: must not be more than 5 minutes in the future (${at.toISOString()}, now ${now.toISOString()})`,
    ]);
  return at;
};

/**
 * Parse any scaling trigger into one ScalingRequest: an EventBridge alarm state change, an SNS-delivered
 * alarm notification, or a direct payload. Malformed input, or an alarm no rule answers, throws one
 * EventShapeError naming the field path, before anything is read or changed.
 */
export const parseScalingRequest = (raw: unknown, scaling: ScalingConfig, now: Date): ScalingRequest => {
  const rules = namedRules(scaling);
  if (isObject(raw) && 'source' in raw) {
    const e = parseWith(AlarmStateChangeEvent, raw, 'Invalid CloudWatch alarm state change event');
    const d = e.detail;
    const event: AlarmEvent = {
      alarmName: d.alarmName,
      state: d.state.value,
      ...(d.previousState ? { previousState: d.previousState.value } : {}),
      at: notAhead(
        d.state.timestamp,
        now,
        'Invalid CloudWatch alarm state change event',
        'detail.state.timestamp',
      ),
      source: 'eventbridge',
      ...(d.state.reason ? { reason: d.state.reason } : {}),
    };
    return {
      action: 'alarms',
      items: [{ event, rule: ruleFor(rules, d.alarmName, 'detail.alarmName') }],
      dryRun: false,
    };
  }
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
      const m = parseWith(
        SnsAlarmMessage,
        body,
        `Invalid CloudWatch alarm notification in Records.${i}.Sns.Message`,
      );
      const event: AlarmEvent = {
        alarmName: m.AlarmName,
        state: m.NewStateValue,
        ...(m.OldStateValue ? { previousState: m.OldStateValue } : {}),
        at: notAhead(
          m.StateChangeTime,
          now,
          `Invalid CloudWatch alarm notification in Records.${i}.Sns.Message`,
          `Records.${i}.Sns.Message.StateChangeTime`,
        ),
        source: 'sns',
        ...(m.NewStateReason ? { reason: m.NewStateReason } : {}),
      };
      return { event, rule: ruleFor(rules, m.AlarmName, `Records.${i}.Sns.Message.AlarmName`) };
    });
    return { action: 'alarms', items, dryRun: false };
  }
  const e = parseWith(ScalingDirectEvent, raw, 'Invalid scaling request');
  switch (e.action) {
    case 'run-playbook': {
      let rule: NamedRule;
      if (e.rule !== undefined) {
        const found = rules.find((r) => r.name === e.rule);
        if (!found)
          throw new EventShapeError(`Unknown scaling rule "${e.rule}"`, [
            `rule: not in scaling.rules (known: ${rules.map((r) => r.name).join(', ') || 'none'})`,
          ]);
        rule = found;
      } else {
        rule = ruleFor(rules, e.alarm!, 'alarm');
      }
      const alarmName = e.alarm ?? ('name' in rule.alarm ? rule.alarm.name : `playbook:${rule.name}`);
      const requested = e.requestedAt ? new Date(e.requestedAt) : undefined;
      // An on-demand run happens now: its stamp only dedups retries of the same request.
      if (requested && Math.abs(requested.getTime() - now.getTime()) > CLOCK_SKEW_MS)
        throw new EventShapeError('Invalid scaling request', [
          `requestedAt: must be within 5 minutes of now (${requested.toISOString()}, now ${now.toISOString()})`,
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
