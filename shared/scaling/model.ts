import type {
  ResourceKind,
  ScalingActionType,
  ScalingMode,
  ScalingRule,
  Severity,
} from '../config/schema.js';
import type { Tags } from '../tags.js';

export type { ResourceKind };

/** CloudWatch alarm states. */
export type AlarmState = 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';

/** An alarm's state as CloudWatch has it now, and since when its state value last changed. */
export interface LiveAlarmState {
  state: AlarmState;
  since: Date;
}

/** One alarm state transition, whatever delivered it. */
export interface AlarmEvent {
  alarmName: string;
  state: AlarmState;
  previousState?: AlarmState;
  /** When the alarm entered `state` (EventBridge `detail.state.timestamp`, SNS `StateChangeTime`). */
  at: Date;
  /**
   * Who delivered it: EventBridge, SNS, CloudWatch invoking the function as the alarm's action, a direct
   * invoke (playbook, CLI) or the scale-in check.
   */
  source: 'eventbridge' | 'sns' | 'lambda-action' | 'direct' | 'scale-in-check';
  reason?: string;
  /** A composite alarm whose actions CloudWatch holds back (`state.actionsSuppressedBy`). */
  suppressedBy?: string;
  /** An alarm mute rule's window (`muteDetail`): CloudWatch mutes the alarm's actions inside it. */
  mute?: { ruleArn: string; start: Date; end: Date };
  /**
   * Which side of the threshold the newest datapoint is on, when the event says (an anomaly band's
   * `recentLowerThresholds` / `recentUpperThresholds` in `reasonData`).
   */
  breach?: 'above' | 'below';
  /** The event carries an anomaly-detection band (`ANOMALY_DETECTION_BAND` or band thresholds). */
  band?: boolean;
  /** The alarm's comparison operator, when the event carries it (SNS `Trigger`, config). */
  comparison?: string;
}

/** A config rule with its name (the key in `scaling.rules`). */
export type NamedRule = ScalingRule & { name: string };

/** Scale out (an ALARM, a playbook run) or back in (an alarm that stayed OK). */
export type Direction = 'out' | 'in';

/** An RDS DB instance as the scaling engine sees it. */
export interface RdsInstanceState {
  kind: 'rds-instance';
  id: string;
  arn: string;
  /** `available`, `modifying`, `rebooting`, ... */
  status: string;
  engine: string;
  instanceClass: string;
  multiAz: boolean;
  /** Names of the pending modified values (`DBInstanceClass`, ...); empty when none. */
  pending: string[];
  /** Read replica instance ids of this source. */
  replicas: string[];
  /**
   * Tags of the replicas named like steward's (`<id>-replica-<n>`), read for scale-in only: a replica is
   * steward's to remove when its tags say steward created it. A replica absent here is not steward's.
   */
  replicaTags?: Record<string, Tags>;
  /**
   * Status of each replica named like steward's, read with its tags (every read-replica rule's describe): one
   * that is not `available` yet (`creating`, `modifying`) is a change in flight, and no replica is added or
   * removed until it is. A replica absent here was not described (a hand-made name, or another rule's describe).
   */
  replicaStatus?: Record<string, string>;
  /** Set when the instance is an Aurora cluster member. */
  clusterId?: string;
  tags: Tags;
}

/** An Aurora DB cluster and its instances. */
export interface AuroraClusterState {
  kind: 'aurora-cluster';
  id: string;
  arn: string;
  status: string;
  engine: string;
  /** Cluster pending modified values, plus one entry per member that is not `available`. */
  pending: string[];
  /** `tags`: the member's own (scale-in removes only a reader whose tags say steward created it). */
  members: { id: string; writer: boolean; instanceClass?: string; status?: string; tags?: Tags }[];
  tags: Tags;
}

/** A step back waiting on a transient state, remembered with the OK period it belongs to. */
export interface ResourceWait {
  /** The resource's state (`backing-up`, `snapshotting`). */
  state: string;
  /** The first check that found it so. */
  since: Date;
  /** The last check that found it so. */
  seen: Date;
  /** When the wait was told, having outlasted its bound. */
  told?: Date;
}

/** One shard's replica count before and after a step. */
export interface ReplicaStep {
  nodeGroupId: string;
  from: number;
  to: number;
}

/** An ElastiCache (Valkey / Redis OSS) replication group. */
export interface CacheGroupState {
  kind: 'elasticache';
  id: string;
  arn: string;
  status: string;
  pending: string[];
  /** Cluster mode enabled: shards can be added. */
  clusterMode: boolean;
  /** `enabled`, `disabled`, `enabling`, `disabling`. */
  automaticFailover: string;
  /** Multi-AZ enabled: a shard keeps at least one replica (DecreaseReplicaCount's minimum). */
  multiAz?: boolean;
  /** Shards, sorted by id; `replicas` = members minus the primary. */
  nodeGroups: { id: string; status: string; replicas: number }[];
}

/** Plain data the adapters describe a rule's resource as. */
export type ScalingResource = RdsInstanceState | AuroraClusterState | CacheGroupState;

/** The exact AWS change steward plans; an approval stores it and executes it unchanged. */
export type PlannedChange =
  | { type: 'rds.modifyClass'; dbInstanceId: string; from: string; to: string; applyImmediately: boolean }
  | {
      type: 'rds.createReadReplica';
      sourceId: string;
      replicaId: string;
      /** Absent: the source's class. */
      instanceClass?: string;
      tags: Tags;
      replicas: number;
    }
  | {
      type: 'rds.createClusterReader';
      clusterId: string;
      instanceId: string;
      instanceClass: string;
      engine: string;
      tags: Tags;
      readers: number;
    }
  | { type: 'rds.deleteReplica'; instanceId: string; of: string; remaining: number }
  | { type: 'rds.rebootWithFailover'; dbInstanceId: string }
  | { type: 'rds.failoverCluster'; clusterId: string }
  | {
      type: 'elasticache.setShardCount';
      replicationGroupId: string;
      from: number;
      to: number;
      /** Scale-in only: the shard to remove (ElastiCache requires naming it). */
      remove?: string[];
    }
  | {
      type: 'elasticache.setReplicaCount';
      replicationGroupId: string;
      /** Replicas per shard (equal shards: one NewReplicaCount); with `shards`, the group's total. */
      from: number;
      to: number;
      /** Unequal shards: each shard that moves, one step from its own count (ReplicaConfiguration). */
      shards?: ReplicaStep[];
    }
  | { type: 'elasticache.testFailover'; replicationGroupId: string; nodeGroupId: string }
  | { type: 'notify'; resource: string };

/** Why nothing was done. `duplicate` and `ignored-state` are bookkeeping; the rest are guardrails. */
export type SkipReason =
  | 'duplicate'
  | 'ignored-state'
  | 'not-sustained'
  | 'out-of-order'
  | 'cooldown'
  | 'not-found'
  | 'not-available'
  /** The scale-in check waits on a state AWS leaves by itself (a backup): quiet until it outlasts a bound. */
  | 'transient-state'
  /** The scale-in check finds the refusal (not-found, not-on-ladder, unsupported) it told before: quiet. */
  | 'already-told'
  | 'pending-modification'
  | 'at-max'
  | 'at-min'
  | 'not-on-ladder'
  | 'unsupported'
  | 'stale-approval'
  | 'expired'
  | 'suppressed'
  | 'muted'
  | 'stale'
  | 'wrong-side';

/** The engine's verdict: one change with its reason, or a skip with its reason. */
export type ScalingDecision =
  | { verdict: 'act'; direction: Direction; change: PlannedChange; reason: string }
  | { verdict: 'skip'; reason: SkipReason; detail: string };

/** What steward remembers about an event and its resource (the state table). */
export interface ScalingMemory {
  /** This event's idempotency key was already recorded. */
  seen: boolean;
  /** State timestamp of the last transition steward acted on for this resource. */
  lastActedAt?: Date;
  /** No new action on the resource before this. */
  cooldownUntil?: Date;
  /**
   * A dry run's plan on the resource and the cooldown it would have started: kept apart from the live cooldown,
   * read only when the decision is itself a dry run (a dry-run stage or rule), so it never holds back a live one.
   */
  planned?: PlannedRecord;
  /** This event was decided, and the decision is news that has not been announced yet (SNS failed). */
  unannounced?: DecisionRecord;
}

/** What a dry run planned on a resource: the change it would have made, when, and the cooldown it would start. */
export interface PlannedRecord {
  /** When it was planned (the run's clock). */
  at: Date;
  /** End of the cooldown a live stage would have started. */
  until: Date;
  rule: string;
  alarmName: string;
  /** The planned change, in words (describeChange). */
  change: string;
}

/** A change waiting for `steward approve <id>`. */
export interface Approval {
  id: string;
  /** `executing` while one request runs it; back to `pending` if that fails. */
  status: 'pending' | 'executing' | 'executed';
  rule: string;
  alarmName: string;
  /** The triggering transition's time (ISO). */
  at: string;
  direction: Direction;
  change: PlannedChange;
  createdAt: string;
  expiresAt: string;
  executedAt?: string;
  /** After execution: `done` or `already-done`. */
  result?: string;
  /** The error of the last failed execution, which left the approval pending. */
  lastError?: string;
}

/** One decision as reported: logged, counted, notified, returned. */
export interface DecisionRecord {
  rule: string;
  alarmName: string;
  resource: string;
  action: ScalingActionType;
  mode: ScalingMode;
  severity: Severity;
  /** The triggering transition's time (ISO). */
  at: string;
  decision: ScalingDecision;
  status: 'done' | 'already-done' | 'planned' | 'approval-requested' | 'skipped' | 'failed';
  approvalId?: string;
  error?: string;
  /** A failed decision's error itself, not enumerable (keepCause in transition.ts): never in a report or log. */
  readonly cause?: unknown;
  /** The event key this decision was recorded under (announce-on-retry). */
  eventKey?: string;
  /** A decision made by an earlier attempt, announced now because its notification failed then. */
  replayed?: boolean;
  /** Something after the action failed without undoing it (e.g. recording the outcome). */
  warning?: string;
}
