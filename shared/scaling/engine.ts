import { Tag, type Tags } from '../tags.js';
import { newestOwnReplica, nextReplicaId } from './ids.js';
import { ladderFor, nextScaleStep, previousScaleStep } from './ladder.js';
import type {
  AlarmEvent,
  Approval,
  Direction,
  NamedRule,
  PlannedChange,
  ScalingDecision,
  ScalingMemory,
  ScalingResource,
  SkipReason,
} from './model.js';

/*
 * The scaling decision engine: pure. Every guardrail is enforced here, before any AWS call, and every
 * verdict carries its reason. The service only observes (memory, resource), asks, and executes.
 */

const skip = (reason: SkipReason, detail: string): ScalingDecision => ({ verdict: 'skip', reason, detail });

const minutes = (ms: number) => Math.round(ms / 60_000);

/** RDS takes at most 50 tags per resource (a replica or reader created with more is refused). */
const MAX_TAGS = 50;

/**
 * Tags of a new replica: the source's own tags (not AWS's, not steward's opt-ins) plus steward's. Within 50:
 * steward's four always (they make the replica steward's to remove), then the source's own by key.
 */
export const replicaTags = (source: string, tags: Tags, rule: string): Tags => {
  const ours: Tags = {
    [Tag.managed]: 'true',
    [Tag.source]: source,
    [Tag.createdBy]: 'scaling',
    [Tag.reason]: `scaling:${rule}`,
  };
  const theirs = Object.keys(tags)
    .filter((k) => !k.startsWith('aws:') && !k.startsWith('steward:'))
    .sort()
    .slice(0, MAX_TAGS - Object.keys(ours).length);
  return { ...Object.fromEntries(theirs.map((k) => [k, tags[k]!])), ...ours };
};

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
  return { direction };
};

/** Resource-state guards shared by every action that calls AWS. */
const guardResource = (
  rule: NamedRule,
  resource: ScalingResource | undefined,
): ScalingDecision | undefined => {
  if (!resource) return skip('not-found', `${rule.kind} ${rule.resource} does not exist in this region`);
  if (resource.kind !== rule.kind)
    return skip('unsupported', `${rule.resource} is a ${resource.kind}, the rule names a ${rule.kind}`);
  if (resource.status !== 'available')
    return skip('not-available', `${rule.resource} is ${resource.status}, not available`);
  if (resource.pending.length)
    return skip(
      'pending-modification',
      `${rule.resource} has pending modifications: ${resource.pending.join(', ')}`,
    );
  return undefined;
};

const act = (direction: Direction, change: PlannedChange, reason: string): ScalingDecision => ({
  verdict: 'act',
  direction,
  change,
  reason,
});

/**
 * The change a rule makes to its resource in one direction, or why it makes none. Checks the resource
 * guardrails (exists, available, nothing pending) and the bounds (max, min, ladder). Pure.
 */
export const planChange = (
  direction: Direction,
  rule: NamedRule,
  resource: ScalingResource | undefined,
): ScalingDecision => {
  const a = rule.action;
  if (a.type === 'notify')
    return act(
      direction,
      { type: 'notify', resource: rule.resource },
      'notify-only rule: tell, change nothing',
    );
  const refused = guardResource(rule, resource);
  if (refused || !resource) return refused!;
  const min = rule.scaleIn.min;

  switch (a.type) {
    case 'rds.scaleUp': {
      if (resource.kind !== 'rds-instance') break;
      const ladder = ladderFor(a.ladder, a.max);
      const step =
        direction === 'out'
          ? nextScaleStep(ladder, resource.instanceClass, a.max)
          : previousScaleStep(ladder, resource.instanceClass, typeof min === 'string' ? min : undefined);
      if (step.step !== 'next') return skip(step.step, step.detail);
      return act(
        direction,
        {
          type: 'rds.modifyClass',
          dbInstanceId: resource.id,
          from: resource.instanceClass,
          to: step.to,
          applyImmediately: a.applyImmediately,
        },
        `${resource.instanceClass} → ${step.to}${a.applyImmediately ? ' now' : ' in the next maintenance window'}`,
      );
    }
    case 'rds.addReadReplica': {
      const suffix = resource.kind === 'aurora-cluster' ? 'reader' : 'replica';
      const existing =
        resource.kind === 'aurora-cluster'
          ? resource.members.filter((m) => !m.writer).map((m) => m.id)
          : resource.kind === 'rds-instance'
            ? resource.replicas
            : [];
      const all =
        resource.kind === 'aurora-cluster' ? resource.members.map((m) => m.id) : [...existing, resource.id];
      if (direction === 'in') {
        const floor = typeof min === 'number' ? min : 0;
        const victim = newestOwnReplica(resource.id, existing, suffix);
        if (existing.length <= floor || !victim)
          return skip(
            'at-min',
            victim
              ? `${existing.length} ${suffix}s, floor ${floor}`
              : `no ${suffix} steward created is left to remove (only steward's own are removed)`,
          );
        return act(
          direction,
          { type: 'rds.deleteReplica', instanceId: victim, of: resource.id, remaining: existing.length - 1 },
          `${existing.length} → ${existing.length - 1} ${suffix}s: remove ${victim}`,
        );
      }
      if (existing.length >= a.maxReplicas)
        return skip(
          'at-max',
          `${resource.id} already has ${existing.length} of at most ${a.maxReplicas} ${suffix}s`,
        );
      const id = nextReplicaId(resource.id, all, suffix);
      const tags = replicaTags(resource.id, 'tags' in resource ? resource.tags : {}, rule.name);
      if (resource.kind === 'aurora-cluster') {
        const writer = resource.members.find((m) => m.writer);
        const instanceClass = a.instanceClass ?? writer?.instanceClass;
        if (!instanceClass)
          return skip('unsupported', `${resource.id} has no writer class to copy: set action.instanceClass`);
        return act(
          direction,
          {
            type: 'rds.createClusterReader',
            clusterId: resource.id,
            instanceId: id,
            instanceClass,
            engine: resource.engine,
            tags,
            readers: existing.length + 1,
          },
          `${existing.length} → ${existing.length + 1} readers (max ${a.maxReplicas}): add ${id} (${instanceClass})`,
        );
      }
      if (resource.kind !== 'rds-instance') break;
      if (resource.clusterId)
        return skip(
          'unsupported',
          `${resource.id} is in Aurora cluster ${resource.clusterId}: name the cluster`,
        );
      return act(
        direction,
        {
          type: 'rds.createReadReplica',
          sourceId: resource.id,
          replicaId: id,
          ...(a.instanceClass ? { instanceClass: a.instanceClass } : {}),
          tags,
          replicas: existing.length + 1,
        },
        `${existing.length} → ${existing.length + 1} read replicas (max ${a.maxReplicas}): add ${id} (${a.instanceClass ?? resource.instanceClass})`,
      );
    }
    case 'elasticache.addShard': {
      if (resource.kind !== 'elasticache') break;
      if (!resource.clusterMode)
        return skip('unsupported', `${resource.id} has cluster mode disabled: it has exactly one shard`);
      const n = resource.nodeGroups.length;
      if (direction === 'in') {
        const floor = Math.max(1, typeof min === 'number' ? min : 1);
        if (n <= floor) return skip('at-min', `${resource.id} has ${n} shards, floor ${floor}`);
        const last = resource.nodeGroups.at(-1)!.id;
        return act(
          direction,
          {
            type: 'elasticache.setShardCount',
            replicationGroupId: resource.id,
            from: n,
            to: n - 1,
            remove: [last],
          },
          `${n} → ${n - 1} shards: remove shard ${last}`,
        );
      }
      if (n >= a.max) return skip('at-max', `${resource.id} already has ${n} of at most ${a.max} shards`);
      return act(
        direction,
        { type: 'elasticache.setShardCount', replicationGroupId: resource.id, from: n, to: n + 1 },
        `${n} → ${n + 1} shards (max ${a.max})`,
      );
    }
    case 'elasticache.addReplica': {
      if (resource.kind !== 'elasticache') break;
      // IncreaseReplicaCount sets every shard to the same count: start from the largest.
      const n = Math.max(0, ...resource.nodeGroups.map((g) => g.replicas));
      if (direction === 'in') {
        const floor = typeof min === 'number' ? min : 1;
        if (n <= floor) return skip('at-min', `${resource.id} has ${n} replicas per shard, floor ${floor}`);
        return act(
          direction,
          { type: 'elasticache.setReplicaCount', replicationGroupId: resource.id, from: n, to: n - 1 },
          `${n} → ${n - 1} replicas per shard`,
        );
      }
      if (n >= a.max)
        return skip('at-max', `${resource.id} already has ${n} of at most ${a.max} replicas per shard`);
      return act(
        direction,
        { type: 'elasticache.setReplicaCount', replicationGroupId: resource.id, from: n, to: n + 1 },
        `${n} → ${n + 1} replicas per shard (max ${a.max})`,
      );
    }
    case 'rds.failover': {
      if (resource.kind === 'rds-instance') {
        if (!resource.multiAz)
          return skip(
            'unsupported',
            `${resource.id} is not Multi-AZ: a reboot with failover needs a standby`,
          );
        return act(
          direction,
          { type: 'rds.rebootWithFailover', dbInstanceId: resource.id },
          `reboot ${resource.id} with failover to its standby`,
        );
      }
      if (resource.kind === 'aurora-cluster') {
        if (resource.members.length < 2)
          return skip('unsupported', `${resource.id} has no reader to fail over to`);
        return act(
          direction,
          { type: 'rds.failoverCluster', clusterId: resource.id },
          `fail ${resource.id} over to a reader (RDS picks the highest-priority one)`,
        );
      }
      break;
    }
    case 'elasticache.failover': {
      if (resource.kind !== 'elasticache') break;
      if (resource.automaticFailover !== 'enabled')
        return skip('unsupported', `${resource.id} has automatic failover ${resource.automaticFailover}`);
      const nodeGroupId = a.nodeGroupId ?? resource.nodeGroups[0]?.id;
      const group = resource.nodeGroups.find((g) => g.id === nodeGroupId);
      if (!group || !nodeGroupId)
        return skip('not-found', `${resource.id} has no shard ${nodeGroupId ?? ''}`.trim());
      if (group.replicas < 1) return skip('unsupported', `shard ${nodeGroupId} has no replica to promote`);
      return act(
        direction,
        { type: 'elasticache.testFailover', replicationGroupId: resource.id, nodeGroupId },
        `fail shard ${nodeGroupId} of ${resource.id} over to a replica`,
      );
    }
  }
  return skip('unsupported', `${a.type} cannot act on ${resource.kind} ${resource.id}`);
};

/**
 * Decide what one alarm transition does to its rule's resource: exactly one verdict with its reason.
 * `resource` may be undefined when it was not described (a guard already decided) or does not exist.
 */
export const decideScaling = (
  event: AlarmEvent,
  rule: NamedRule,
  resource: ScalingResource | undefined,
  memory: ScalingMemory,
  now: Date,
  o: GuardOptions = {},
): ScalingDecision => {
  const g = guardEvent(event, rule, memory, now, o);
  if ('skip' in g) return g.skip;
  return planChange(g.direction, rule, resource);
};

// Sorted keys: two equal changes serialize equally whatever order their fields were built in.
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : x,
  );

/**
 * May an approved change run now? Only when it is still exactly what the rule would plan against the
 * resource as it is now (so the guardrails hold again), the approval has not expired and the resource is not
 * cooling down. Pure.
 */
export const checkApproval = (
  approval: Approval,
  rule: NamedRule | undefined,
  resource: ScalingResource | undefined,
  memory: Pick<ScalingMemory, 'cooldownUntil'>,
  now: Date,
): ScalingDecision => {
  if (new Date(approval.expiresAt).getTime() <= now.getTime())
    return skip('expired', `approval ${approval.id} expired at ${approval.expiresAt}`);
  if (!rule) return skip('stale-approval', `rule ${approval.rule} is no longer in the config`);
  if (rule.action.type !== 'notify' && memory.cooldownUntil && now.getTime() < memory.cooldownUntil.getTime())
    return skip(
      'cooldown',
      `${rule.resource} changed recently: cooldown until ${memory.cooldownUntil.toISOString()}`,
    );
  const again = planChange(approval.direction, rule, resource);
  if (again.verdict === 'skip') return again;
  // Tags are copied from the source at plan time; a tag edit since then does not make the change stale.
  const { tags: _a, ...planned } = { tags: undefined, ...approval.change };
  const { tags: _b, ...current } = { tags: undefined, ...again.change };
  if (canonical(current) !== canonical(planned))
    return skip(
      'stale-approval',
      `the resource changed since approval was requested: planned ${describeChange(approval.change)}, now it would be ${describeChange(again.change)}`,
    );
  return { ...again, change: approval.change };
};

/** One line for humans: what the change does. */
export const describeChange = (c: PlannedChange): string => {
  switch (c.type) {
    case 'rds.modifyClass':
      return `modify ${c.dbInstanceId} class ${c.from} → ${c.to}${c.applyImmediately ? ' (apply immediately)' : ' (next maintenance window)'}`;
    case 'rds.createReadReplica':
      return `create read replica ${c.replicaId} of ${c.sourceId}${c.instanceClass ? ` (${c.instanceClass})` : ''}`;
    case 'rds.createClusterReader':
      return `add reader ${c.instanceId} (${c.instanceClass}) to Aurora cluster ${c.clusterId}`;
    case 'rds.deleteReplica':
      return `delete replica ${c.instanceId} of ${c.of}`;
    case 'rds.rebootWithFailover':
      return `reboot ${c.dbInstanceId} with forced failover`;
    case 'rds.failoverCluster':
      return `fail over Aurora cluster ${c.clusterId}`;
    case 'elasticache.setShardCount':
      return `reshard ${c.replicationGroupId} ${c.from} → ${c.to} shards${c.remove ? ` (remove ${c.remove.join(', ')})` : ''}`;
    case 'elasticache.setReplicaCount':
      return `set ${c.replicationGroupId} replicas per shard ${c.from} → ${c.to}`;
    case 'elasticache.testFailover':
      return `fail over shard ${c.nodeGroupId} of ${c.replicationGroupId}`;
    case 'notify':
      return `notify about ${c.resource}`;
  }
};

/** Does this change alter the resource (and so start a cooldown)? */
export const changesResource = (c: PlannedChange): boolean => c.type !== 'notify';
