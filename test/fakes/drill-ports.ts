import { auroraWriterId } from '../../shared/drill/ids.js';
import {
  type CopyDeletion,
  type CopyDeletionLedger,
  type CredentialsPort,
  type DbCredentials,
  type DrillResource,
  type FastRestoreLedger,
  type FastRestoreRecord,
  type ParkedToken,
  type ReportStore,
  type RestorePort,
  type RestoreRequest,
  type SentAlerts,
  SnapshotGoneError,
  type TargetStatus,
  type TaskSignal,
  type TokenStore,
  type VaultShare,
  type VaultShareLedger,
} from '../../shared/drill/ports.js';
import type { SourceShape } from '../../shared/drill/shape.js';
import type { DrillState } from '../../shared/drill/state.js';
import { GuardRefusedError } from '../../shared/errors.js';
import type { Snapshot } from '../../shared/model.js';
import { s3ConsoleUrl } from '../../shared/notify/run-report.js';
import { Tag, type Tags } from '../../shared/tags.js';

export interface FakeResource {
  kind: DrillResource['kind'];
  id: string;
  tags: Tags;
  status: string;
  createdAt?: string;
  endpoint?: { host: string; port: number };
}

/** In-memory RestorePort: restores appear as `creating`; tests move them on with `setStatus`. */
export interface FakeRestorePort extends RestorePort {
  snapshots: Snapshot[];
  window: { earliest: string; latest: string } | undefined;
  /** dbId → master secret ARN. */
  secrets: Record<string, string>;
  /** dbId → the source's shape (class, storage); absent: the source is gone. */
  sources: Record<string, SourceShape>;
  resources: Map<string, FakeResource>;
  requests: RestoreRequest[];
  removed: string[];
  failRemove: Map<string, unknown>;
  setStatus(id: string, status: string): void;
}

export const fakeRestorePort = (region = 'eu-west-1'): FakeRestorePort => {
  const port: FakeRestorePort = {
    region,
    snapshots: [],
    window: undefined,
    secrets: {},
    sources: {},
    resources: new Map(),
    requests: [],
    removed: [],
    failRemove: new Map(),
    setStatus: (id, status) => {
      const r = port.resources.get(id);
      if (!r) throw new Error(`no fake resource ${id}`);
      r.status = status;
      if (status === 'available')
        r.endpoint = { host: `${id}.abc123.${region}.rds.amazonaws.com`, port: 5432 };
    },
    listSnapshots: async (kind, dbId) =>
      port.snapshots.filter((s) => s.kind === kind && s.sourceId === dbId).map((s) => structuredClone(s)),
    restorableWindow: async () => port.window,
    restore: async (req) => {
      port.requests.push(structuredClone(req));
      const id = req.source.snapshotId;
      if (!port.resources.has(req.targetId) && id && !port.snapshots.some((s) => s.id === id))
        throw new SnapshotGoneError(`snapshot ${id} of ${req.sourceDbId} no longer exists`);
      if (!port.resources.has(req.targetId)) {
        port.resources.set(req.targetId, {
          kind: req.kind,
          id: req.targetId,
          tags: { ...req.tags },
          status: 'creating',
        });
      }
      return {
        kind: req.kind,
        id: req.targetId,
        ...(req.kind === 'aurora-cluster' ? { instanceId: auroraWriterId(req.targetId) } : {}),
        status: port.resources.get(req.targetId)!.status,
      };
    },
    describe: async (t): Promise<TargetStatus> => {
      const r = port.resources.get(t.id);
      if (!r) return { status: 'not-found', failed: true };
      const req = port.requests.find((q) => q.targetId === t.id);
      return {
        status: r.status,
        ...(r.endpoint ? { endpoint: r.endpoint } : {}),
        failed: ['failed', 'incompatible-restore'].includes(r.status),
        ...(req && r.status === 'available'
          ? {
              shape: {
                ...(req.instanceClass ? { instanceClass: req.instanceClass } : {}),
                instances: req.instances ?? 1,
                ...(port.sources[req.sourceDbId]?.allocatedGb !== undefined
                  ? { allocatedGb: port.sources[req.sourceDbId]!.allocatedGb }
                  : {}),
              },
            }
          : {}),
      };
    },
    remove: async (t) => {
      if (port.failRemove.has(t.id)) throw port.failRemove.get(t.id);
      const r = port.resources.get(t.id);
      if (!r) return 'already-gone';
      if (!r.tags[Tag.drill]) throw new GuardRefusedError(`refusing to delete ${t.id}: no ${Tag.drill} tag`);
      port.resources.delete(t.id);
      port.removed.push(t.id);
      return 'deleted';
    },
    listDrillResources: async () =>
      [...port.resources.values()]
        .filter((r) => r.tags[Tag.drill])
        .map((r) => ({
          kind: r.kind,
          id: r.id,
          drillId: r.tags[Tag.drill]!,
          ...(r.createdAt ? { createdAt: r.createdAt } : {}),
          status: r.status,
        })),
    masterSecretArn: async (_kind, dbId) => port.secrets[dbId],
    sourceShape: async (_kind, dbId) => (port.sources[dbId] ? { ...port.sources[dbId] } : undefined),
  };
  return port;
};

/**
 * Credentials by secret ARN, or by `iam:<user>` for IAM logins (whose password stands for the token).
 * `reads` lists each request: the ARN, or `iam:<user>@<host>:<port>` (a token is bound to its endpoint).
 */
export const fakeCredentials = (
  byKey: Record<string, DbCredentials>,
): CredentialsPort & { reads: string[] } => {
  const reads: string[] = [];
  return {
    reads,
    get: async (req) => {
      const key = 'secretArn' in req ? req.secretArn : `iam:${req.iamUser}`;
      reads.push('secretArn' in req ? req.secretArn : `${key}@${req.host}:${req.port}`);
      const c = byKey[key];
      if (!c) throw new Error(`no fake credentials for ${key}`);
      return { ...c };
    },
  };
};

/** In-memory TokenStore with the DynamoDB store's semantics (test/shared/aws/token-store-contract.test.ts). */
export const fakeTokenStore = (
  now: () => Date = () => new Date(),
): TokenStore & {
  parked: Map<string, ParkedToken & { ttlSeconds: number; expiresAt: number }>;
} => {
  const parked = new Map<string, ParkedToken & { ttlSeconds: number; expiresAt: number }>();
  return {
    parked,
    put: async (targetId, token, ttlSeconds, state: DrillState) =>
      void parked.set(targetId, {
        token,
        state: structuredClone(state),
        ttlSeconds,
        expiresAt: now().getTime() + ttlSeconds * 1000,
      }),
    take: async (targetId) => {
      const p = parked.get(targetId);
      parked.delete(targetId);
      return p && p.expiresAt > now().getTime() ? { token: p.token, state: p.state } : undefined;
    },
    waiting: async (targetId) => (parked.get(targetId)?.expiresAt ?? 0) > now().getTime(),
  };
};

/** In-memory SentAlerts with the DynamoDB store's semantics (test/shared/aws/drill-adapters.test.ts). */
export const fakeSentAlerts = (
  now: () => Date = () => new Date(),
): SentAlerts & { records: Map<string, number>; fail: unknown } => {
  const records = new Map<string, number>();
  const a = {
    records,
    fail: undefined as unknown,
    sent: async (key: string) => {
      if (a.fail) throw a.fail;
      return (records.get(key) ?? 0) > now().getTime();
    },
    record: async (key: string, ttlSeconds: number) => {
      if (a.fail) throw a.fail;
      records.set(key, now().getTime() + ttlSeconds * 1000);
    },
  };
  return a;
};

/** In-memory VaultShareLedger with the DynamoDB ledger's semantics (test/shared/aws/vault-share-ledger.test.ts). */
export const fakeVaultShareLedger = (): VaultShareLedger & { shares: Map<string, VaultShare> } => {
  const shares = new Map<string, VaultShare>();
  const key = (s: Pick<VaultShare, 'vaultAccount' | 'region' | 'drillId' | 'kind' | 'copyId'>) =>
    [s.vaultAccount, s.region, s.drillId, s.kind, s.copyId].join(' ');
  return {
    shares,
    record: async (s) => {
      if (!shares.has(key(s))) shares.set(key(s), { ...s });
    },
    forget: async (s) => void shares.delete(key(s)),
    list: async (account, region) =>
      [...shares.values()].filter((s) => s.vaultAccount === account && s.region === region),
  };
};

/** The state table's record of fast snapshot restores drills turned on, in memory (as FastRestoreLedger). */
export const fakeFastRestoreLedger = (): FastRestoreLedger & { records: Map<string, FastRestoreRecord> } => {
  const records = new Map<string, FastRestoreRecord>();
  const key = (r: Pick<FastRestoreRecord, 'drillId' | 'snapshotId' | 'availabilityZone'>) =>
    [r.drillId, r.snapshotId, r.availabilityZone].join(' ');
  return {
    records,
    record: async (r) => {
      if (!records.has(key(r))) records.set(key(r), { ...r });
    },
    forget: async (r) => void records.delete(key(r)),
    list: async () => [...records.values()].map((r) => ({ ...r })),
  };
};

/** The state table's record of drill copies being deleted, in memory (as CopyDeletionLedger); `fail` fails calls. */
export const fakeCopyDeletionLedger = (): CopyDeletionLedger & {
  records: Map<string, CopyDeletion>;
  fail: unknown;
} => {
  const records = new Map<string, CopyDeletion>();
  const key = (d: Pick<CopyDeletion, 'region' | 'id'>) => `${d.region}#${d.id}`;
  const l = {
    records,
    fail: undefined as unknown,
    record: async (d: CopyDeletion) => {
      if (l.fail) throw l.fail;
      if (!records.has(key(d))) records.set(key(d), { ...d });
    },
    forget: async (d: Pick<CopyDeletion, 'region' | 'id'>) => {
      if (l.fail) throw l.fail;
      records.delete(key(d));
    },
    list: async () => {
      if (l.fail) throw l.fail;
      return [...records.values()].map((d) => ({ ...d }));
    },
  };
  return l;
};

export type SignalCall =
  | { kind: 'success'; token: string; output: unknown }
  | { kind: 'failure'; token: string; error: string; cause: string };

export const fakeTaskSignal = (): TaskSignal & { calls: SignalCall[]; fail: unknown } => {
  const s = {
    calls: [] as SignalCall[],
    fail: undefined as unknown,
    success: async (token: string, output: unknown) => {
      if (s.fail !== undefined) throw s.fail;
      s.calls.push({ kind: 'success', token, output: structuredClone(output) });
    },
    failure: async (token: string, error: string, cause: string) => {
      if (s.fail !== undefined) throw s.fail;
      s.calls.push({ kind: 'failure', token, error, cause });
    },
  };
  return s;
};

/** The report bucket the fake report store links its objects in. */
export const FAKE_REPORT_BUCKET = 'steward-reports';

/** ReportStore in memory, linking each object as the S3 store does (bucket `steward-reports`, eu-west-1). */
export const fakeReportStore = (): ReportStore & { objects: Map<string, string>; fail: unknown } => {
  const r = {
    objects: new Map<string, string>(),
    fail: undefined as unknown,
    put: async (key: string, body: string) => {
      if (r.fail !== undefined) throw r.fail;
      r.objects.set(key, body);
      return {
        uri: `s3://${FAKE_REPORT_BUCKET}/${key}`,
        consoleUrl: s3ConsoleUrl(FAKE_REPORT_BUCKET, 'eu-west-1', key),
      };
    },
    get: async (key: string) => r.objects.get(key),
  };
  return r;
};
