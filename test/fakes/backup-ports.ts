import type {
  BackupPort,
  CopyLedger,
  CopyPort,
  CopySlots,
  SnapshotReader,
  StoredCopyQueue,
  StoredCopySlots,
} from '../../shared/backup/ports.js';
import type {
  CopySnapshotInput,
  CreateSnapshotInput,
  Database,
  Quota,
  Snapshot,
} from '../../shared/model.js';
import type { FakeSnapshotStore } from './snapshot-store.js';

const ACCOUNT = '111122223333';

/** The ARN AWS would give a snapshot of this kind. */
export const fakeSnapshotArn = (kind: Snapshot['kind'], region: string, id: string): string =>
  kind === 'elasticache'
    ? `arn:aws:elasticache:${region}:${ACCOUNT}:snapshot:${id}`
    : `arn:aws:rds:${region}:${ACCOUNT}:${kind === 'aurora-cluster' ? 'cluster-snapshot' : 'snapshot'}:${id}`;

/** Steward's `daily` snapshot `id` of `db` (a `kind`) in `region`: taken 2026-01-15 03:04, available, encrypted. */
export const dailySnapshot = (
  kind: Snapshot['kind'],
  region: string,
  db: string,
  id = `steward-${db}-202601150300-sched`,
): Snapshot => ({
  kind,
  id,
  arn: fakeSnapshotArn(kind, region, id),
  region,
  sourceId: db,
  createdAt: '2026-01-15T03:04:00.000Z',
  status: 'available',
  type: 'manual',
  encrypted: true,
  tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': db },
});

/** In-memory BackupPort; created snapshots appear in `store` as `creating`, like the real service. */
export interface FakeBackupPort extends BackupPort {
  databases: Database[];
  quotaList: Quota[];
  /** Every create request that succeeded, in call order. */
  created: CreateSnapshotInput[];
  /** Database id → error that `createSnapshot` rejects with for it. */
  failCreate: Map<string, unknown>;
  /** Set to make `listDatabases` reject with this error. */
  failList: unknown;
}

export const fakeBackupPort = (
  region: string,
  databases: readonly Database[],
  quotas: readonly Quota[] = [],
  store?: FakeSnapshotStore,
): FakeBackupPort => {
  const port: FakeBackupPort = {
    region,
    databases: databases.map((d) => structuredClone(d)),
    quotaList: [...quotas],
    created: [],
    failCreate: new Map(),
    failList: undefined,
    listDatabases: async (kinds) => {
      if (port.failList !== undefined) throw port.failList;
      return port.databases.filter((d) => kinds.includes(d.kind)).map((d) => structuredClone(d));
    },
    quotas: async () => port.quotaList.map((q) => ({ ...q })),
    createSnapshot: async (input) => {
      if (port.failCreate.has(input.dbId)) throw port.failCreate.get(input.dbId);
      const exists =
        port.created.some((c) => c.kind === input.kind && c.snapshotId === input.snapshotId) ||
        store?.snapshots.some((s) => s.kind === input.kind && s.id === input.snapshotId);
      if (exists) return 'already-done';
      port.created.push(structuredClone(input));
      const db = port.databases.find((d) => d.kind === input.kind && d.id === input.dbId);
      store?.snapshots.push({
        kind: input.kind,
        id: input.snapshotId,
        arn: fakeSnapshotArn(input.kind, region, input.snapshotId),
        region,
        sourceId: input.dbId,
        status: 'creating',
        type: 'manual',
        tags: { ...input.tags },
        ...(db?.encrypted !== undefined ? { encrypted: db.encrypted } : {}),
      });
      return 'created';
    },
  };
  return port;
};

/** In-memory CopyPort; started copies appear in `store` as `copying`, with the source region set. */
export interface FakeCopyPort extends CopyPort {
  copies: CopySnapshotInput[];
  /** The DR region's manual snapshot quotas (`quotas` is there only when given), and how often they were read. */
  quotaList?: Quota[];
  quotaReads: number;
  /** Target id → error that `copySnapshot` rejects with for it. */
  failCopy: Map<string, unknown>;
}

export const fakeCopyPort = (
  region: string,
  store?: FakeSnapshotStore,
  quotas?: readonly Quota[],
): FakeCopyPort => {
  const port: FakeCopyPort = {
    region,
    copies: [],
    quotaReads: 0,
    ...(quotas
      ? {
          quotaList: [...quotas],
          quotas: async () => {
            port.quotaReads++;
            return (port.quotaList ?? []).map((q) => ({ ...q }));
          },
        }
      : {}),
    failCopy: new Map(),
    copySnapshot: async (input) => {
      if (port.failCopy.has(input.targetId)) throw port.failCopy.get(input.targetId);
      if (store?.snapshots.some((s) => s.kind === input.kind && s.id === input.targetId))
        return 'already-done';
      port.copies.push(structuredClone(input));
      const sourceRegion = input.sourceArn.split(':')[3] ?? '';
      const copy: Snapshot = {
        kind: input.kind,
        id: input.targetId,
        arn: fakeSnapshotArn(input.kind, region, input.targetId),
        region,
        sourceId: input.tags['steward:source'] ?? '',
        status: 'copying',
        type: 'manual',
        tags: { ...input.tags },
        sourceRegion,
      };
      store?.snapshots.push(copy);
      return 'started';
    },
  };
  return port;
};

/** In-memory SnapshotReader over a fake store: one database's manual snapshots, one snapshot by id. */
export const fakeSnapshotReader = (store: FakeSnapshotStore): SnapshotReader & { reads: number } => {
  const reader = {
    region: store.region,
    reads: 0,
    ofDatabase: async (kind: Snapshot['kind'], db: string) => {
      reader.reads++;
      return store.snapshots
        .filter((s) => s.kind === kind && s.sourceId === db && s.type === 'manual')
        .map((s) => structuredClone(s));
    },
    get: async (kind: Snapshot['kind'], id: string) => {
      reader.reads++;
      const s = store.snapshots.find((x) => x.kind === kind && x.id === id);
      return s && structuredClone(s);
    },
    some: async (kind: Snapshot['kind'], ids: readonly string[]) => {
      if (!ids.length) return [];
      reader.reads++;
      return store.snapshots
        .filter((s) => s.kind === kind && ids.includes(s.id) && s.type === 'manual')
        .map((s) => structuredClone(s));
    },
  };
  return reader;
};

/**
 * In-memory CopyLedger with the adapter's optimistic concurrency: a write lands only on the version read.
 * Every call yields to the event loop first, so concurrent runs interleave between their read and write.
 */
export const memoryCopyLedger = (): CopyLedger & { stored: Map<string, StoredCopyQueue> } => {
  const stored = new Map<string, StoredCopyQueue>();
  const tick = () => new Promise<void>((r) => setImmediate(r));
  return {
    stored,
    read: async (destination) => {
      await tick();
      return structuredClone(stored.get(destination) ?? { queue: { inFlight: [], pending: [] }, version: 0 });
    },
    write: async (destination, queue, version) => {
      await tick();
      if ((stored.get(destination)?.version ?? 0) !== version) return false;
      stored.set(destination, { queue: structuredClone(queue), version: version + 1 });
      return true;
    },
  };
};

/**
 * In-memory CopySlots of many accounts and destinations (`of(account, destination)`), with the adapter's
 * optimistic concurrency: a write lands only on the version read; every call yields to the event loop first.
 */
export const memoryCopySlots = () => {
  const stored = new Map<string, StoredCopySlots>();
  const tick = () => new Promise<void>((r) => setImmediate(r));
  return {
    stored,
    of: (account: string, destination: string): CopySlots => {
      const key = `${account} ${destination}`;
      return {
        read: async () => {
          await tick();
          return structuredClone(stored.get(key) ?? { bySource: {}, version: 0 });
        },
        write: async (bySource, version) => {
          await tick();
          if ((stored.get(key)?.version ?? 0) !== version) return false;
          stored.set(key, { bySource: structuredClone(bySource), version: version + 1 });
          return true;
        },
      };
    },
  };
};
