import type { ResourceKind } from '../../shared/config/schema.js';
import { alarmStateKey, approvalKey, cooldownKey, plannedKey } from '../../shared/scaling/ids.js';
import type {
  AlarmState,
  Approval,
  DecisionRecord,
  PlannedChange,
  ResourceWait,
  ScalingResource,
} from '../../shared/scaling/model.js';
import {
  type ScalingResources,
  type ScalingStore,
  STALE_EXECUTION_SECONDS,
} from '../../shared/scaling/ports.js';

type Item = Record<string, unknown> & { ttl?: number };

/** In-memory ScalingStore honouring the port's contract (test/shared/aws/scaling-store.contract.ts). */
export interface FakeScalingStore extends ScalingStore {
  /** The table: pk → item. */
  items: Map<string, Item>;
  /** Number of writes (put, update, delete) so far. */
  writes: number;
  /** Set to make every write reject with it (the table refusing writes). */
  failWrites: unknown;
}

export const fakeScalingStore = (now: () => Date = () => new Date()): FakeScalingStore => {
  const items = new Map<string, Item>();
  const epoch = () => Math.floor(now().getTime() / 1000);
  const live = (pk: string) => {
    const i = items.get(pk);
    return i && !(typeof i.ttl === 'number' && i.ttl <= epoch()) ? i : undefined;
  };
  // Every write goes through here: counted, and refused while `failWrites` is set (the table is down).
  const write = (f: () => void) => {
    if (store.failWrites !== undefined) throw store.failWrites;
    store.writes++;
    f();
  };
  const store: FakeScalingStore = {
    items,
    writes: 0,
    failWrites: undefined,
    memory: async (eventKey, kind, id, o = {}) => {
      const c = live(cooldownKey(kind, id));
      const e = live(eventKey);
      const p = o.planned ? live(plannedKey(kind, id)) : undefined;
      return {
        seen: e !== undefined,
        ...(p
          ? {
              planned: {
                at: new Date(p.at as string),
                until: new Date(p.until as string),
                rule: p.rule as string,
                alarmName: p.alarmName as string,
                change: p.change as string,
              },
            }
          : {}),
        ...(typeof c?.lastActedAt === 'string' ? { lastActedAt: new Date(c.lastActedAt) } : {}),
        ...(typeof c?.until === 'string' ? { cooldownUntil: new Date(c.until) } : {}),
        ...(typeof e?.outcome === 'string' && e.announced === false
          ? { unannounced: JSON.parse(e.outcome) as DecisionRecord }
          : {}),
      };
    },
    recordPlanned: async (kind: ResourceKind, id, p) => {
      const pk = plannedKey(kind, id);
      const old = live(pk);
      if (typeof old?.until === 'string' && old.until > p.until.toISOString()) return;
      write(() =>
        items.set(pk, {
          pk,
          at: p.at.toISOString(),
          until: p.until.toISOString(),
          rule: p.rule,
          alarmName: p.alarmName,
          change: p.change,
          ttl: Math.floor(p.until.getTime() / 1000) + 24 * 3600,
        }),
      );
    },
    claim: async (eventKey, ttlSeconds, record) => {
      if (live(eventKey)) return false;
      write(() => items.set(eventKey, { ...record, pk: eventKey, ttl: epoch() + ttlSeconds }));
      return true;
    },
    release: async (eventKey) => write(() => items.delete(eventKey)),
    restartCooldown: async (kind: ResourceKind, id, until, reason) => {
      const pk = cooldownKey(kind, id);
      const old = live(pk);
      if (typeof old?.until === 'string' && old.until >= until.toISOString()) return false;
      const { eventKey: _released, ...kept } = old ?? {};
      write(() =>
        items.set(pk, {
          ...kept,
          pk,
          until: until.toISOString(),
          restartedBy: reason,
          ttl: Math.floor(until.getTime() / 1000) + 7 * 24 * 3600,
        }),
      );
      return true;
    },
    // Synchronous check-and-set: as atomic as DynamoDB's conditional write.
    claimResource: async (kind: ResourceKind, id, a) => {
      const pk = cooldownKey(kind, id);
      const old = live(pk);
      const free =
        !old ||
        ((old.until as string) <= now().toISOString() &&
          (old.lastActedAt === undefined || (old.lastActedAt as string) <= a.at.toISOString()));
      if (!free)
        return {
          ok: false,
          holder: {
            ...(typeof old.rule === 'string' ? { rule: old.rule } : {}),
            ...(typeof old.alarmName === 'string' ? { alarmName: old.alarmName } : {}),
            ...(typeof old.until === 'string' ? { until: new Date(old.until) } : {}),
            ...(typeof old.lastActedAt === 'string' ? { lastActedAt: new Date(old.lastActedAt) } : {}),
          },
        };
      write(() =>
        items.set(pk, {
          pk,
          lastActedAt: a.at.toISOString(),
          until: a.until.toISOString(),
          rule: a.rule,
          alarmName: a.alarmName,
          eventKey: a.eventKey,
          ttl: Math.floor(a.until.getTime() / 1000) + 7 * 24 * 3600,
        }),
      );
      return {
        ok: true,
        claim: {
          kind,
          id,
          eventKey: a.eventKey,
          ...(old &&
            typeof old.lastActedAt === 'string' && {
              previous: {
                at: new Date(old.lastActedAt as string),
                until: new Date(old.until as string),
                rule: old.rule as string,
                alarmName: old.alarmName as string,
              },
            }),
        },
      };
    },
    releaseResource: async (c) => {
      const pk = cooldownKey(c.kind, c.id);
      if (items.get(pk)?.eventKey !== c.eventKey) return;
      write(() => {
        if (!c.previous) items.delete(pk);
        else
          items.set(pk, {
            pk,
            lastActedAt: c.previous.at.toISOString(),
            until: c.previous.until.toISOString(),
            rule: c.previous.rule,
            alarmName: c.previous.alarmName,
          });
      });
    },
    recordOutcome: async (eventKey, decision) => {
      const i = live(eventKey);
      if (!i) return;
      write(() => Object.assign(i, { outcome: JSON.stringify(decision), announced: false }));
    },
    markAnnounced: async (eventKey) => {
      const i = live(eventKey);
      if (!i) return;
      write(() => (i.announced = true));
    },
    putApproval: async (a, ttlSeconds) => {
      const pk = approvalKey(a.id);
      if (live(pk)) return 'exists';
      write(() =>
        items.set(pk, { pk, status: a.status, approval: JSON.stringify(a), ttl: epoch() + ttlSeconds }),
      );
      return 'created';
    },
    getApproval: async (id) => {
      const i = live(approvalKey(id));
      if (!i) return undefined;
      const a = JSON.parse(i.approval as string) as Approval;
      return {
        ...a,
        status: i.status === 'executed' ? 'executed' : i.status === 'executing' ? 'executing' : 'pending',
        ...(typeof i.executedAt === 'string' ? { executedAt: i.executedAt } : {}),
        ...(typeof i.result === 'string' ? { result: i.result } : {}),
        ...(typeof i.lastError === 'string' ? { lastError: i.lastError } : {}),
      };
    },
    claimApproval: async (id, at) => {
      const i = live(approvalKey(id));
      const stale = new Date(at.getTime() - STALE_EXECUTION_SECONDS * 1000).toISOString();
      if (!i || !(i.status === 'pending' || (i.status === 'executing' && (i.claimedAt as string) < stale)))
        return false;
      write(() => Object.assign(i, { status: 'executing', claimedAt: at.toISOString() }));
      return true;
    },
    completeApproval: async (id, at, result) => {
      const i = live(approvalKey(id));
      if (i?.status !== 'executing') return;
      write(() => Object.assign(i, { status: 'executed', executedAt: at.toISOString(), result }));
    },
    releaseApproval: async (id, error) => {
      const i = live(approvalKey(id));
      if (i?.status !== 'executing') return;
      write(() => {
        Object.assign(i, { status: 'pending', lastError: error });
        delete i.claimedAt;
      });
    },
    alarmState: async (alarmName) => {
      const i = live(alarmStateKey(alarmName));
      if (!i) return undefined;
      const wait = i.wait as ResourceWait | undefined;
      return {
        state: i.state as AlarmState,
        since: new Date(i.since as string),
        ...(wait ? { wait: { ...wait } } : {}),
      };
    },
    noteWait: async (alarmName, since, wait) => {
      const i = live(alarmStateKey(alarmName));
      if (!i || i.since !== since.toISOString()) return;
      write(() => Object.assign(i, { wait: { ...wait } }));
    },
    setAlarmState: async (alarmName, state, since, ttlSeconds) => {
      const pk = alarmStateKey(alarmName);
      const old = items.get(pk);
      if (old && typeof old.since === 'string' && old.since > since.toISOString()) return;
      write(() => items.set(pk, { pk, state, since: since.toISOString(), ttl: epoch() + ttlSeconds }));
    },
  };
  return store;
};

/** In-memory ScalingResources: resources by `kind:id`, every applied change recorded. */
export interface FakeScalingResources extends ScalingResources {
  resources: Map<string, ScalingResource>;
  applied: PlannedChange[];
  /** Change type → error `apply` rejects with. */
  failApply: Map<PlannedChange['type'], unknown>;
}

export const fakeScalingResources = (
  region: string,
  initial: readonly ScalingResource[] = [],
): FakeScalingResources => {
  const r: FakeScalingResources = {
    region,
    resources: new Map(initial.map((x) => [`${x.kind}:${x.id}`, structuredClone(x)])),
    applied: [],
    failApply: new Map(),
    describe: async (kind, id) => structuredClone(r.resources.get(`${kind}:${id}`)),
    apply: async (c) => {
      const e = r.failApply.get(c.type);
      if (e !== undefined) throw e;
      r.applied.push(c);
      return 'done';
    },
  };
  return r;
};
