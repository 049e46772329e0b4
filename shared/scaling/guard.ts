import type {
  AlarmEvent,
  Direction,
  LiveAlarmState,
  NamedRule,
  ScalingDecision,
  ScalingMemory,
  SkipReason,
} from './model.js';

/*
 * The guards of the scaling decision engine (shared/scaling/engine.ts): pure, and everything an alarm needs
 * that no guard lets through (a duplicate, a stale or suppressed ALARM, a cooldown) runs without the planner.
 */

/** A skip verdict with its reason. */
export const skip = (reason: SkipReason, detail: string): ScalingDecision => ({
  verdict: 'skip',
  reason,
  detail,
});

const minutes = (ms: number) => Math.round(ms / 60_000);

/** What the guards know beyond the event: how old a live ALARM may be, and the alarm's comparison operator. */
export interface GuardOptions {
  /** A live ALARM older than this when it arrives is stale. @default 15 min */
  staleAfterMs?: number;
  /** The alarm's comparison operator as described (the event may carry its own). */
  comparison?: string;
}

export const DEFAULT_STALE_AFTER_MS = 15 * 60_000;

const LIVE: readonly AlarmEvent['source'][] = ['eventbridge', 'sns', 'lambda-action'];

/** The side of its threshold an alarm breaches by its comparison operator; undefined for a two-sided band. */
export const sideOfComparison = (op: string | undefined): 'above' | 'below' | undefined => {
  if (!op || op === 'LessThanLowerOrGreaterThanUpperThreshold') return undefined;
  if (op.startsWith('GreaterThan')) return 'above';
  if (op.startsWith('LessThan')) return 'below';
  return undefined;
};

/**
 * The side a rule answers: its `alarm.breach`, else `above` for an anomaly band (which fires both ways),
 * else `any` (a static threshold fires on one side only, the one its comparison names).
 */
export const wantedSide = (
  event: AlarmEvent,
  rule: NamedRule,
  comparison?: string,
): 'above' | 'below' | 'any' =>
  rule.alarm.breach ??
  (event.band ||
  (comparison ?? event.comparison ?? '').includes('Upper') ||
  (comparison ?? event.comparison ?? '').includes('Lower')
    ? 'above'
    : 'any');

/**
 * What a plan reads of the rule's resource beyond the resource itself: a read-replica rule reads the replicas
 * named like steward's, their tags (scale-in removes only steward's own) and their status (neither direction
 * steps while one is still being created); nothing else does, so no other describe pays.
 */
export const describeFor = (rule: NamedRule): { replicaTags?: boolean } =>
  rule.action.type === 'rds.addReadReplica' ? { replicaTags: true } : {};

/** Does deciding this event need the alarm's comparison operator described (the event does not say)? */
export const needsComparison = (event: AlarmEvent, rule: NamedRule): boolean =>
  event.state === 'ALARM' &&
  LIVE.includes(event.source) &&
  event.breach === undefined &&
  event.comparison === undefined &&
  wantedSide(event, rule) !== 'any';

/** CloudWatch itself holds the actions: a composite alarm's suppression, or a mute rule's window. */
const guardIntent = (event: AlarmEvent): ScalingDecision | undefined => {
  if (event.state !== 'ALARM' || !LIVE.includes(event.source)) return undefined;
  if (event.suppressedBy)
    return skip(
      'suppressed',
      `${event.alarmName}'s actions are suppressed by ${event.suppressedBy} (composite alarm): CloudWatch holds them, so does steward`,
    );
  const m = event.mute;
  if (m && event.at.getTime() >= m.start.getTime() && event.at.getTime() <= m.end.getTime())
    return skip(
      'muted',
      `${event.alarmName} is muted by ${m.ruleArn} from ${m.start.toISOString()} to ${m.end.toISOString()}: the transition at ${event.at.toISOString()} falls in the mute window`,
    );
  return undefined;
};

/** A live ALARM that arrived too late, or breached on a side the rule does not answer. */
const guardBreach = (
  event: AlarmEvent,
  rule: NamedRule,
  now: Date,
  o: GuardOptions,
): ScalingDecision | undefined => {
  if (event.state !== 'ALARM' || !LIVE.includes(event.source)) return undefined;
  const age = now.getTime() - event.at.getTime();
  const limit = o.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  if (age > limit)
    return skip(
      'stale',
      `the ALARM at ${event.at.toISOString()} arrived ${minutes(age)} min later, more than ${minutes(limit)} min (scaling.staleAfterMinutes): the load it reported may be gone`,
    );
  const comparison = o.comparison ?? event.comparison;
  const wanted = wantedSide(event, rule, comparison);
  if (wanted === 'any') return undefined;
  const side = event.breach ?? sideOfComparison(comparison);
  if (!side)
    return skip(
      'wrong-side',
      `cannot tell which side of its band ${event.alarmName} breached (comparison ${comparison ?? 'unknown'}, no band datapoints in the event); rule ${rule.name} answers ${wanted} only`,
    );
  if (side !== wanted)
    return skip(
      'wrong-side',
      `${event.alarmName} breached ${side} its ${event.band ? 'band' : 'threshold'}; rule ${rule.name} answers ${wanted} only (alarm.breach)`,
    );
  return undefined;
};

/**
 * Guards that need no resource: duplicate delivery, alarm state, suppression, mutes, staleness, the side of
 * the breach, out-of-order, cooldown. Undefined when the event may proceed (with its direction). The service
 * calls this first to spare a describe call.
 */
export const guardEvent = (
  event: AlarmEvent,
  rule: NamedRule,
  memory: ScalingMemory,
  now: Date,
  o: GuardOptions = {},
): { direction: Direction } | { skip: ScalingDecision } => {
  if (memory.seen)
    return {
      skip: skip(
        'duplicate',
        `${event.alarmName} ${event.state} at ${event.at.toISOString()} was already handled`,
      ),
    };
  let direction: Direction;
  if (event.state === 'ALARM') direction = 'out';
  else if (event.state === 'OK' && rule.scaleIn.enabled) {
    const held = now.getTime() - event.at.getTime();
    const need = rule.scaleIn.afterOkMinutes * 60_000;
    // Only the scale-in check steps back: it reads the alarm's latest state. A delivery of the OK itself
    // (held long enough only when it came late: a throttled first try) cannot know the alarm is OK still.
    if (event.source !== 'scale-in-check')
      return {
        skip: skip(
          'not-sustained',
          `${event.alarmName} OK at ${event.at.toISOString()} is remembered: the scale-in check steps back once the OK has held ${rule.scaleIn.afterOkMinutes} min`,
        ),
      };
    if (held < need)
      return {
        skip: skip(
          'not-sustained',
          `OK for ${minutes(held)} of ${rule.scaleIn.afterOkMinutes} min: scale-in waits for a sustained OK`,
        ),
      };
    direction = 'in';
  } else {
    return {
      skip: skip(
        'ignored-state',
        event.state === 'OK'
          ? `${event.alarmName} is OK and rule ${rule.name} has no scale-in`
          : `${event.alarmName} is ${event.state}: only ALARM (and OK with scale-in) act`,
      ),
    };
  }
  const held = guardIntent(event);
  if (held) return { skip: held };
  if (memory.lastActedAt && event.at.getTime() < memory.lastActedAt.getTime())
    return {
      skip: skip(
        'out-of-order',
        `transition at ${event.at.toISOString()} is older than the last acted-on one (${memory.lastActedAt.toISOString()})`,
      ),
    };
  const refused = guardBreach(event, rule, now, o);
  if (refused) return { skip: refused };
  // A notification changes nothing, so it neither waits for nor starts a cooldown.
  if (rule.action.type !== 'notify' && memory.cooldownUntil && now.getTime() < memory.cooldownUntil.getTime())
    return {
      skip: skip(
        'cooldown',
        `${rule.resource} changed recently: cooldown until ${memory.cooldownUntil.toISOString()} (${minutes(memory.cooldownUntil.getTime() - now.getTime())} min left)`,
      ),
    };
  // A dry run's own plan (in the memory only when this decision is a dry run too): a live stage would have
  // changed the resource then and would wait now, so the dry run says so instead of planning it again.
  const p = memory.planned;
  if (rule.action.type !== 'notify' && p && now.getTime() < p.until.getTime())
    return {
      skip: skip(
        'cooldown',
        `dry run: ${p.change} was planned at ${p.at.toISOString()} (rule ${p.rule}, alarm ${p.alarmName}); a live stage would have changed ${rule.resource} then and would wait until ${p.until.toISOString()} (${minutes(p.until.getTime() - now.getTime())} min left): not planned again`,
      ),
    };
  return { direction };
};

/**
 * The scale-in check's last word before a step back, on what CloudWatch says now: the alarm is OK, and has
 * been for its `afterOkMinutes` since the later of the remembered OK and its last state change. INSUFFICIENT_DATA
 * (the metric stopped: the database or its metrics are down) and ALARM never step back, nor an OK newer than the
 * one remembered (the alarm changed after it: an ALARM older than a step's sustain restart, delivered after it).
 * `live` undefined: not read in this run (the OK reached its hold after the check read CloudWatch), so no
 * step back until the next check reads it. Undefined when the step back may go on. Pure.
 */
export const confirmSustained = (
  event: AlarmEvent,
  rule: NamedRule,
  live: LiveAlarmState | null | undefined,
  now: Date,
): ScalingDecision | undefined => {
  const name = event.alarmName;
  if (live === undefined)
    return skip(
      'not-sustained',
      `${name}'s OK reached ${rule.scaleIn.afterOkMinutes} min during this check, after CloudWatch was read: the next check confirms it`,
    );
  if (!live)
    return skip(
      'not-sustained',
      `${name} was not found by DescribeAlarms: no step back on an alarm whose state cannot be confirmed`,
    );
  if (live.state !== 'OK')
    return skip(
      'not-sustained',
      `${name} is ${live.state} since ${live.since.toISOString()} (CloudWatch, now), not OK: ${
        live.state === 'INSUFFICIENT_DATA'
          ? 'no step back while its metric is missing'
          : 'no step back while it is in alarm'
      }`,
    );
  const since = Math.max(event.at.getTime(), live.since.getTime());
  const held = now.getTime() - since;
  if (held < rule.scaleIn.afterOkMinutes * 60_000)
    return skip(
      'not-sustained',
      `${name} changed state at ${live.since.toISOString()} (CloudWatch), after the OK remembered at ${event.at.toISOString()}: OK for ${minutes(held)} of ${rule.scaleIn.afterOkMinutes} min`,
    );
  return undefined;
};
