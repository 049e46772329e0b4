import type { ResourceKind } from '../config/schema.js';
import type {
  AlarmState,
  Approval,
  DecisionRecord,
  LiveAlarmState,
  PlannedChange,
  PlannedRecord,
  ResourceWait,
  ScalingMemory,
  ScalingResource,
} from './model.js';

/** Port: describe a rule's resource as plain data, and apply one planned change to it. */
export interface ScalingResources {
  readonly region: string;
  /**
   * Undefined when the resource does not exist. `replicaTags`: also read the tags and status of an instance's
   * replicas named like steward's (read-replica rules: only steward's own are removed, and none is added or
   * removed while one is still being created); other describes skip it.
   */
  describe(
    kind: ResourceKind,
    id: string,
    o?: { replicaTags?: boolean },
  ): Promise<ScalingResource | undefined>;
  /** `already-done`: AWS says the result exists already (a deterministic replica name taken by an earlier try). */
  apply(change: PlannedChange): Promise<'done' | 'already-done'>;
}

/** A claim on a resource before acting on it: the transition acted on and the cooldown it starts. */
export interface ActionRecord {
  /** State timestamp of the transition acted on. */
  at: Date;
  /** Cooldown end. */
  until: Date;
  rule: string;
  alarmName: string;
  /** The event (or approval) key that holds the claim. */
  eventKey: string;
}

/** A resource claim this run holds, with what it replaced (to put back if the action fails). */
export interface ResourceClaim {
  kind: ResourceKind;
  id: string;
  eventKey: string;
  previous?: Omit<ActionRecord, 'eventKey'> & { eventKey?: string };
}

/** Who holds a resource that could not be claimed. */
export interface ResourceHolder {
  rule?: string;
  alarmName?: string;
  until?: Date;
  lastActedAt?: Date;
}

/** How long an approval stays `executing` before another request may take it over (a run that died). */
export const STALE_EXECUTION_SECONDS = 15 * 60;

/**
 * Port: steward's scaling memory (the stage's state table). Claim before acting, record the outcome after:
 * a write that fails after the action never undoes the claim, and a failed action gives its claims back.
 */
export interface ScalingStore {
  /**
   * What is remembered for one event key and one resource. `planned`: also a dry run's plan on the resource
   * (its would-be cooldown), for a decision that is itself a dry run; a live decision never reads it.
   */
  memory(eventKey: string, kind: ResourceKind, id: string, o?: { planned?: boolean }): Promise<ScalingMemory>;
  /**
   * A dry run planned a change on the resource: remember it until the cooldown a live stage would have started
   * ends (`p.until`), never shortening a longer one. Kept apart from the live cooldown (claimResource).
   */
  recordPlanned(kind: ResourceKind, id: string, p: PlannedRecord): Promise<void>;
  /** Record an event key (conditional write); false when it was recorded already. */
  claim(eventKey: string, ttlSeconds: number, record: Record<string, string>): Promise<boolean>;
  /** Forget an event key, so a retry of a failed action decides again. */
  release(eventKey: string): Promise<void>;
  /**
   * Claim a resource before changing it, atomically across rules and runs: granted only when no cooldown
   * is running and no newer transition was acted on. The claim is the cooldown: it holds whatever fails
   * after the change.
   */
  claimResource(
    kind: ResourceKind,
    id: string,
    a: ActionRecord,
  ): Promise<{ ok: true; claim: ResourceClaim } | { ok: false; holder: ResourceHolder }>;
  /** The action failed: put back what the claim replaced, if the claim is still this run's. */
  releaseResource(claim: ResourceClaim): Promise<void>;
  /** Remember a decision that is news, before announcing it; `announced` once the notification went out. */
  recordOutcome(eventKey: string, decision: DecisionRecord): Promise<void>;
  /** The decision's notification went out: a redelivery stays quiet. */
  markAnnounced(eventKey: string): Promise<void>;
  /**
   * Something outside steward changed the resource (a failover): its cooldown restarts and lasts until
   * `until`, never shortening a longer one; the last acted-on transition is kept. False when a longer one runs.
   */
  restartCooldown(kind: ResourceKind, id: string, until: Date, reason: string): Promise<boolean>;
  /** Store a pending approval; `exists` when the same id was stored before (a duplicate delivery). */
  putApproval(a: Approval, ttlSeconds: number): Promise<'created' | 'exists'>;
  getApproval(id: string): Promise<Approval | undefined>;
  /**
   * pending → executing, conditionally: true for exactly one caller. An execution older than
   * STALE_EXECUTION_SECONDS (its run died) may be taken over.
   */
  claimApproval(id: string, at: Date): Promise<boolean>;
  /** executing → executed, with the result. */
  completeApproval(id: string, at: Date, result: string): Promise<void>;
  /** executing → pending again, keeping the error: a failed action does not consume the approval. */
  releaseApproval(id: string, error: string): Promise<void>;
  /** The latest state steward saw for an alarm, with the wait the scale-in check noted in it. */
  alarmState(alarmName: string): Promise<{ state: AlarmState; since: Date; wait?: ResourceWait } | undefined>;
  /** Remember an alarm's state; an older transition never overwrites a newer one (a new one drops the wait). */
  setAlarmState(alarmName: string, state: AlarmState, since: Date, ttlSeconds: number): Promise<void>;
  /**
   * The scale-in check's step back waits on a transient state: noted on the alarm's state of `since` (the OK
   * period it read), nothing when the alarm has no state or a newer one.
   */
  noteWait(alarmName: string, since: Date, wait: ResourceWait): Promise<void>;
}

/** Port: what CloudWatch says about an alarm. */
export interface AlarmDescriber {
  /** The alarm's comparison operator (`GreaterThanThreshold`, `LessThanLowerOrGreaterThanUpperThreshold`, ...); undefined when there is no such metric alarm. */
  comparison(alarmName: string): Promise<string | undefined>;
  /**
   * The current state of each named alarm (metric or composite), read in few calls (100 names a call);
   * an alarm CloudWatch does not have is absent from the map. The scale-in check confirms with it.
   */
  states?(alarmNames: readonly string[]): Promise<Map<string, LiveAlarmState>>;
}
