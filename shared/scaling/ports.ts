import type { ResourceKind } from '../config/schema.js';
import type { AlarmState, Approval, PlannedChange, ScalingMemory, ScalingResource } from './model.js';

/** Port: describe a rule's resource as plain data, and apply one planned change to it. */
export interface ScalingResources {
  readonly region: string;
  /** Undefined when the resource does not exist. */
  describe(kind: ResourceKind, id: string): Promise<ScalingResource | undefined>;
  /** `already-done`: AWS says the result exists already (a deterministic replica name taken by an earlier try). */
  apply(change: PlannedChange): Promise<'done' | 'already-done'>;
}

/** After acting on a resource: what to remember for out-of-order and cooldown checks. */
export interface ActionRecord {
  /** State timestamp of the transition acted on. */
  at: Date;
  /** Cooldown end. */
  until: Date;
  rule: string;
  alarmName: string;
}

/** Port: steward's scaling memory (the stage's state table). */
export interface ScalingStore {
  /** What is remembered for one event key and one resource. */
  memory(eventKey: string, kind: ResourceKind, id: string): Promise<ScalingMemory>;
  /** Record an event key (conditional write); false when it was recorded already. */
  claim(eventKey: string, ttlSeconds: number, record: Record<string, string>): Promise<boolean>;
  /** Forget an event key, so a retry of a failed action decides again. */
  release(eventKey: string): Promise<void>;
  /** Remember the acted-on transition and the cooldown end; never moves the transition backwards. */
  recordAction(kind: ResourceKind, id: string, a: ActionRecord): Promise<void>;
  /** Store a pending approval; `exists` when the same id was stored before (a duplicate delivery). */
  putApproval(a: Approval, ttlSeconds: number): Promise<'created' | 'exists'>;
  getApproval(id: string): Promise<Approval | undefined>;
  /** pending → executed, conditionally: true for exactly one caller. */
  markExecuted(id: string, at: Date): Promise<boolean>;
  /** The execution's result, for the record. */
  recordResult(id: string, result: string): Promise<void>;
  /** The latest state steward saw for an alarm. */
  alarmState(alarmName: string): Promise<{ state: AlarmState; since: Date } | undefined>;
  /** Remember an alarm's state; an older transition never overwrites a newer one. */
  setAlarmState(alarmName: string, state: AlarmState, since: Date, ttlSeconds: number): Promise<void>;
}
