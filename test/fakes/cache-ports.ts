import type {
  CacheCopyLister,
  CacheRestorePort,
  CacheRestoreRequest,
  CacheSnapshot,
  TargetStatus,
} from '../../shared/drill/ports.js';
import { GuardRefusedError, StewardError } from '../../shared/errors.js';
import { Tag, type Tags } from '../../shared/tags.js';

interface FakeGroup {
  id: string;
  tags: Tags;
  status: string;
  createdAt?: string;
  endpoint?: { host: string; port: number };
}

/** In-memory CacheRestorePort: restored groups start `creating`; tests move them on with `setStatus`. */
export interface FakeCachePort extends CacheRestorePort {
  snapshots: CacheSnapshot[];
  /** The live replication groups (not drill copies) and when each was created: `groupCreatedAt` answers. */
  live: Map<string, string>;
  groups: Map<string, FakeGroup>;
  requests: CacheRestoreRequest[];
  removed: string[];
  failRestore: unknown;
  setStatus(id: string, status: string): void;
}

export const fakeCachePort = (region = 'eu-west-1'): FakeCachePort => {
  const port: FakeCachePort = {
    region,
    snapshots: [],
    live: new Map(),
    groups: new Map(),
    requests: [],
    removed: [],
    failRestore: undefined,
    setStatus: (id, status) => {
      const g = port.groups.get(id);
      if (!g) throw new Error(`no fake group ${id}`);
      g.status = status;
      if (status === 'available')
        g.endpoint = { host: `master.${id}.abc123.${region}.cache.amazonaws.com`, port: 6379 };
    },
    groupCreatedAt: async (group) => {
      const at = port.live.get(group);
      if (!at) throw new StewardError(`replication group ${group} not found in ${region}`);
      return at;
    },
    listSnapshots: async (group) =>
      port.snapshots.filter((s) => s.sourceId === group).map((s) => structuredClone(s)),
    restore: async (req) => {
      port.requests.push(structuredClone(req));
      if (port.failRestore) throw port.failRestore;
      // CreateReplicationGroup API reference: ReplicationGroupId is 1-40 letters, digits and hyphens.
      if (req.targetId.length > 40)
        throw Object.assign(new Error(`Replication group id ${req.targetId} exceeds 40 characters`), {
          name: 'InvalidParameterValueException',
        });
      if (!port.groups.has(req.targetId))
        port.groups.set(req.targetId, { id: req.targetId, tags: { ...req.tags }, status: 'creating' });
      return {
        kind: 'redis',
        id: req.targetId,
        status: port.groups.get(req.targetId)!.status,
        tls: true,
        region,
      };
    },
    describe: async (t): Promise<TargetStatus> => {
      const g = port.groups.get(t.id);
      if (!g) return { status: 'not found', failed: true };
      return {
        status: g.status,
        failed: g.status === 'create-failed',
        ...(g.endpoint ? { endpoint: g.endpoint } : {}),
      };
    },
    remove: async (t) => {
      const g = port.groups.get(t.id);
      if (!g) return 'already-gone';
      if (!g.tags[Tag.drill]) throw new GuardRefusedError(`refusing to delete ${t.id}: no ${Tag.drill} tag`);
      port.groups.delete(t.id);
      port.removed.push(t.id);
      return 'deleted';
    },
    listDrillResources: async () =>
      [...port.groups.values()]
        .filter((g) => g.tags[Tag.drill])
        .map((g) => ({
          kind: 'redis' as const,
          id: g.id,
          drillId: g.tags[Tag.drill]!,
          ...(g.createdAt ? { createdAt: g.createdAt } : {}),
          status: g.status,
          region,
        })),
  };
  return port;
};

/** The DR bucket's RDB copies, in memory. */
export const fakeCopyLister = (
  region: string,
  copies: CacheSnapshot[] = [],
): CacheCopyLister & { copies: CacheSnapshot[] } => {
  const lister = {
    region,
    copies,
    listCopies: async (group: string) =>
      lister.copies.filter((c) => c.sourceId === group).map((c) => structuredClone(c)),
  };
  return lister;
};
