import { isManaged, Tag, type Tags } from '../tags.js';
import { changesResource, describeChange } from './change.js';
import {
  DEFAULT_STALE_AFTER_MS,
  guardEvent,
  type GuardOptions,
  needsComparison,
  sideOfComparison,
  skip,
  wantedSide,
} from './guard.js';
import { newestOwnReplica, nextReplicaId, replicaNumber } from './ids.js';
import { ladderFor, nextScaleStep, previousScaleStep } from './ladder.js';
import type {
  AlarmEvent,
  Approval,
  CacheGroupState,
  Direction,
  NamedRule,
  PlannedChange,
  ReplicaStep,
  ScalingDecision,
  ScalingMemory,
  ScalingResource,
} from './model.js';

/*
 * The scaling decision engine: pure. Every guardrail is enforced here, before any AWS call, and every
 * verdict carries its reason. The service only observes (memory, resource), asks, and executes. The guards
 * that need no resource are in guard.ts, the words for a change in change.ts: an alarm a guard stops (most
 * of them) never loads the planner below.
 */

export {
  changesResource,
  DEFAULT_STALE_AFTER_MS,
  describeChange,
  guardEvent,
  needsComparison,
  sideOfComparison,
  wantedSide,
};
export type { GuardOptions };

/** The instance class of an Aurora Serverless v2 instance, whose capacity Aurora scales in ACUs. */
const SERVERLESS_V2 = 'db.serverless';

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
/**
 * States besides `available` in which AWS takes an action's change. RDS changes an instance's class
 * (ModifyDBInstance) while an automated backup runs (`backing-up`, an operational state in the RDS User Guide's
 * "DB instance status" table; the daily backup window must not refuse a scale-up during a load alarm) and while
 * its storage is optimized (`storage-optimization`: only further storage changes wait, AWS Knowledge Center
 * "rds-stuck-in-storage-optimization"). Every other state, and every other action (ElastiCache answers
 * InvalidReplicationGroupState outside `available`), waits for `available`.
 */
const CHANGEABLE: Partial<Record<NamedRule['action']['type'], readonly string[]>> = {
  'rds.scaleUp': ['available', 'backing-up', 'storage-optimization'],
};

/**
 * Whether steward created this replica or reader of `source`, so scale-in may remove it: the name steward gives
 * (`<source>-replica-<n>`, `<cluster>-reader-<n>`) and the tags replicaTags wrote (managed, created by scaling,
 * this source), as steward decides ownership everywhere (name and tags). A hand-made one with steward's name is
 * not steward's, nor one whose tags were not read. (IAM refuses the delete of one without steward:managed too.)
 */
export const createdByScaling = (
  source: string,
  id: string,
  tags: Tags | undefined,
  suffix: 'replica' | 'reader',
): boolean =>
  replicaNumber(source, id, suffix) !== undefined &&
  tags !== undefined &&
  isManaged(tags) &&
  tags[Tag.createdBy] === 'scaling' &&
  tags[Tag.source] === source;

/** Resource-state guards shared by every action that calls AWS. */
const guardResource = (
  rule: NamedRule,
  resource: ScalingResource | undefined,
): ScalingDecision | undefined => {
  if (!resource) return skip('not-found', `${rule.kind} ${rule.resource} does not exist in this region`);
  if (resource.kind !== rule.kind)
    return skip('unsupported', `${rule.resource} is a ${resource.kind}, the rule names a ${rule.kind}`);
  const changeable = CHANGEABLE[rule.action.type];
  if (changeable && !changeable.includes(resource.status))
    return skip(
      'not-available',
      `${rule.resource} is ${resource.status}: RDS changes its class only when ${changeable.slice(0, -1).join(', ')} or ${changeable.at(-1)!}`,
    );
  if (!changeable && resource.status !== 'available')
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
 * ElastiCache replicas, one step per shard from its own count: in, each shard above the floor loses one (a
 * shard at or below it stays as it is); out, each shard below max gains one. One NewReplicaCount would set
 * every shard to one count, taking a shard changed by hand (or left by a partly applied change) below the
 * floor or to no replica; so equal shards keep NewReplicaCount and unequal ones name each shard that moves
 * (ReplicaConfiguration). The floor is never below 1 with Multi-AZ or automatic failover on: DecreaseReplicaCount
 * refuses 0 with Multi-AZ (cluster mode disabled), and a shard with no replica has nothing to fail over to.
 */
const planReplicas = (
  direction: Direction,
  resource: CacheGroupState,
  max: number,
  min: string | number | undefined,
): ScalingDecision => {
  const id = resource.id;
  const counts = resource.nodeGroups.map((g) => g.replicas);
  const low = counts.length ? Math.min(...counts) : 0;
  const high = Math.max(0, ...counts);
  const range = low === high ? `${high}` : `${low}-${high}`;
  const total = counts.reduce((s, n) => s + n, 0);
  const steps = (move: (n: number) => number | undefined): ReplicaStep[] =>
    resource.nodeGroups.flatMap((g) => {
      const to = move(g.replicas);
      return to === undefined ? [] : [{ nodeGroupId: g.id, from: g.replicas, to }];
    });
  const change = (moved: ReplicaStep[]): PlannedChange => {
    const to = total + moved.reduce((s, m) => s + m.to - m.from, 0);
    // Every shard moves the same way from the same count: one NewReplicaCount says it.
    if (moved.length === resource.nodeGroups.length && low === high)
      return { type: 'elasticache.setReplicaCount', replicationGroupId: id, from: high, to: moved[0]!.to };
    return { type: 'elasticache.setReplicaCount', replicationGroupId: id, from: total, to, shards: moved };
  };
  const said = (moved: ReplicaStep[]) =>
    moved.length === resource.nodeGroups.length && low === high
      ? `${high} → ${moved[0]!.to} replicas per shard`
      : moved.map((m) => `shard ${m.nodeGroupId} ${m.from} → ${m.to}`).join(', ');
  if (direction === 'in') {
    const keep = resource.multiAz || resource.automaticFailover === 'enabled';
    const floor = Math.max(typeof min === 'number' ? min : 1, keep ? 1 : 0);
    const why =
      keep && typeof min === 'number' && min < 1
        ? ' (Multi-AZ or automatic failover needs a replica in each shard)'
        : '';
    const moved = steps((n) => (n > floor ? n - 1 : undefined));
    if (!moved.length) return skip('at-min', `${id} has ${range} replicas per shard, floor ${floor}${why}`);
    return act(direction, change(moved), `${said(moved)} (floor ${floor}${why})`);
  }
  const moved = steps((n) => (n < max ? n + 1 : undefined));
  if (!moved.length) return skip('at-max', `${id} already has ${range} of at most ${max} replicas per shard`);
  return act(direction, change(moved), `${said(moved)} (max ${max})`);
};

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
      // Aurora Serverless v2: no class to step (the config refuses db.serverless on a ladder), so not
      // "not on the ladder", which sends the reader to the ladder.
      if (resource.instanceClass === SERVERLESS_V2)
        return skip(
          'unsupported',
          `${resource.id} is Aurora Serverless v2 (${SERVERLESS_V2}): Aurora scales its capacity itself, within its cluster’s MinCapacity and MaxCapacity (ACUs); a class ladder does not apply (raise MaxCapacity, or add readers with rds.addReadReplica on the cluster)`,
        );
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
      // A replica RDS is still building (or changing) is a change in flight, as an Aurora member that is not
      // available is (its cluster's `pending`): no replica is added or removed until it is available, whatever
      // the cooldown says (a replica takes longer than most cooldowns to create).
      const inFlight =
        resource.kind === 'rds-instance'
          ? existing.flatMap((id) => {
              const status = resource.replicaStatus?.[id];
              return status && status !== 'available' ? [`${id} is ${status}`] : [];
            })
          : [];
      if (inFlight.length) {
        const them = inFlight.length === 1 ? 'it is' : 'they are';
        return skip(
          'pending-modification',
          direction === 'out'
            ? `${inFlight.join(', ')}: no new read replica of ${resource.id} until ${them} available`
            : `${inFlight.join(', ')}: no read replica of ${resource.id} is removed until ${them} available`,
        );
      }
      if (direction === 'in') {
        const floor = typeof min === 'number' ? min : 0;
        const tagsOf = (id: string): Tags | undefined =>
          resource.kind === 'aurora-cluster'
            ? resource.members.find((m) => m.id === id)?.tags
            : resource.kind === 'rds-instance'
              ? resource.replicaTags?.[id]
              : undefined;
        const own = existing.filter((id) => createdByScaling(resource.id, id, tagsOf(id), suffix));
        // Named like steward's, not tagged as its own: skipped and named (a delete would be refused every check).
        const theirs = existing.filter(
          (id) => replicaNumber(resource.id, id, suffix) !== undefined && !own.includes(id),
        );
        const leftAlone = theirs.length
          ? `${theirs.join(', ')} ${theirs.length === 1 ? 'is' : 'are'} named like steward's but not tagged as created by it: left alone`
          : '';
        const victim = newestOwnReplica(resource.id, own, suffix);
        if (existing.length <= floor || !victim)
          return skip(
            'at-min',
            victim
              ? `${existing.length} ${suffix}s, floor ${floor}`
              : `no ${suffix} steward created is left to remove (only steward's own are removed${leftAlone ? `; ${leftAlone}` : ''})`,
          );
        return act(
          direction,
          { type: 'rds.deleteReplica', instanceId: victim, of: resource.id, remaining: existing.length - 1 },
          `${existing.length} → ${existing.length - 1} ${suffix}s: remove ${victim}${leftAlone ? ` (${leftAlone})` : ''}`,
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
      return planReplicas(direction, resource, a.max, min);
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
