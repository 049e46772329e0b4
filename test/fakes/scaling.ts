import type { ResourceKind } from '../../shared/config/schema.js';
import { alarmStateKey, approvalKey, cooldownKey } from '../../shared/scaling/ids.js';
import type { AlarmState, Approval, PlannedChange, ScalingResource } from '../../shared/scaling/model.js';
import type { ScalingResources, ScalingStore } from '../../shared/scaling/ports.js';

type Item = Record<string, unknown> & { ttl?: number };

/** In-memory ScalingStore honouring the port's contract (test/shared/aws/scaling-store.contract.ts). */
export interface FakeScalingStore extends ScalingStore {
  /** The table: pk → item. */
  items: Map<string, Item>;
  /** Number of writes (put, update, delete) so far. */
  writes: number;
}

export const fakeScalingStore = (now: () => Date = () => new Date()): FakeScalingStore => {
  const items = new Map<string, Item>();
  const epoch = () => Math.floor(now().getTime() / 1000);
  const live = (pk: string) => {
    const i = items.get(pk);
    return i && !(typeof i.ttl === 'number' && i.ttl <= epoch()) ? i : undefined;
  };
  const store: FakeScalingStore = {
    items,
    writes: 0,
    memory: async (eventKey, kind, id) => {
      const c = live(cooldownKey(kind, id));
      return {
        seen: live(eventKey) !== undefined,
        ...(typeof c?.lastActedAt === 'string' ? { lastActedAt: new Date(c.lastActedAt) } : {}),
        ...(typeof c?.until === 'string' ? { cooldownUntil: new Date(c.until) } : {}),
      };
    },
    claim: async (eventKey, ttlSeconds, record) => {
      if (live(eventKey)) return false;
      store.writes++;
      items.set(eventKey, { ...record, pk: eventKey, ttl: epoch() + ttlSeconds });
      return true;
    },
    release: async (eventKey) => {
      store.writes++;
      items.delete(eventKey);
    },
    recordAction: async (kind: ResourceKind, id, a) => {
      const pk = cooldownKey(kind, id);
      const old = items.get(pk);
      if (old && typeof old.lastActedAt === 'string' && old.lastActedAt > a.at.toISOString()) return;
      store.writes++;
      items.set(pk, {
        pk,
        lastActedAt: a.at.toISOString(),
        until: a.until.toISOString(),
        rule: a.rule,
        alarmName: a.alarmName,
        ttl: Math.floor(a.until.getTime() / 1000) + 7 * 24 * 3600,
      });
    },
    putApproval: async (a, ttlSeconds) => {
      const pk = approvalKey(a.id);
      if (live(pk)) return 'exists';
      store.writes++;
      items.set(pk, { pk, status: a.status, approval: JSON.stringify(a), ttl: epoch() + ttlSeconds });
      return 'created';
    },
    getApproval: async (id) => {
      const i = live(approvalKey(id));
      if (!i) return undefined;
      const a = JSON.parse(i.approval as string) as Approval;
      return {
        ...a,
        status: i.status === 'executed' ? 'executed' : 'pending',
        ...(typeof i.executedAt === 'string' ? { executedAt: i.executedAt } : {}),
        ...(typeof i.result === 'string' ? { result: i.result } : {}),
      };
    },
    markExecuted: async (id, at) => {
      const i = items.get(approvalKey(id));
      if (!i || i.status !== 'pending') return false;
      store.writes++;
      i.status = 'executed';
      i.executedAt = at.toISOString();
      return true;
    },
    recordResult: async (id, result) => {
      const i = items.get(approvalKey(id));
      store.writes++;
      if (i) i.result = result;
      else items.set(approvalKey(id), { pk: approvalKey(id), result });
    },
    alarmState: async (alarmName) => {
      const i = live(alarmStateKey(alarmName));
      if (!i) return undefined;
      return { state: i.state as AlarmState, since: new Date(i.since as string) };
    },
    setAlarmState: async (alarmName, state, since, ttlSeconds) => {
      const pk = alarmStateKey(alarmName);
      const old = items.get(pk);
      if (old && typeof old.since === 'string' && old.since > since.toISOString()) return;
      store.writes++;
      items.set(pk, { pk, state, since: since.toISOString(), ttl: epoch() + ttlSeconds });
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
