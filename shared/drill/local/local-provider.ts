import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SnapshotStore } from '../../retention/ports.js';
import type { BackupPort } from '../../backup/ports.js';
import { echo, GuardRefusedError, StewardError } from '../../errors.js';
import type { Database, Snapshot } from '../../model.js';
import { Tag, type Tags } from '../../tags.js';
import {
  type CredentialsPort,
  type DbCredentials,
  type DrillResource,
  type RestorePort,
  SnapshotGoneError,
  type TargetRef,
} from '../ports.js';
import type { SourceShape } from '../shape.js';
import {
  localClient,
  physicalBackup,
  type PgServer,
  removeOnExit,
  startPostgres,
} from './postgres-server.js';

/** Region label of everything local. */
export const LOCAL = 'local';
/** Instance class of a local server (price it with `drill.prices.instanceUsdPerHour.local`). */
export const LOCAL_CLASS = 'db.local.server';

interface LocalSnapshot {
  snapshot: Snapshot;
  dir: string;
}

interface Restored {
  kind: 'rds-instance';
  id: string;
  tags: Tags;
  server?: PgServer;
  createdAt: string;
  status: 'creating' | 'available' | 'failed';
  /** Restored with IAM database authentication on: the sandbox's stand-in token is accepted. */
  iamAuth: boolean;
  ready?: Promise<void>;
  error?: string;
}

/**
 * The local stand-in for RDS: one source PostgreSQL server is "the database"; a snapshot is a physical
 * backup (pg_basebackup); a restore starts a separate PostgreSQL server from a copy of that backup. It
 * implements the same ports as the AWS adapters (BackupPort, SnapshotStore, RestorePort), so the backup
 * core and the drill tasks run unchanged against it. For the sandbox and tests only; never deployed.
 */
export interface LocalEstate {
  backup: BackupPort;
  snapshots: SnapshotStore;
  restore: RestorePort;
  credentials: CredentialsPort;
  /** Stop every restored server and delete every local snapshot. */
  dispose(): Promise<void>;
  /** Restored servers still running (the sandbox checks that cleanup left none). */
  running(): string[];
}

export interface LocalEstateOptions {
  /** The source database, tagged like an RDS instance (`steward:backup=<policy>` opts it in). */
  source: { id: string; server: PgServer; tags: Tags; engine?: string };
  /**
   * Credentials a restored copy accepts: the source's, since a restore keeps its roles and passwords. An
   * IAM login (`auth: iam`) must name this user, and the copy must have been restored with IAM
   * authentication on, as RDS requires; the sandbox's "token" is this password (nothing signs locally).
   */
  credentials: DbCredentials;
  now: () => Date;
  log?: (line: string) => void;
}

const arnOf = (kind: string, id: string) => `arn:local:rds:${LOCAL}:000000000000:${kind}:${id}`;

/** Build the local estate around a running source server. */
export const localEstate = (o: LocalEstateOptions): LocalEstate => {
  const snaps = new Map<string, LocalSnapshot>();
  const restored = new Map<string, Restored>();
  let root: string | undefined;
  let forget: (() => void) | undefined;
  const dirFor = async (id: string) => {
    if (!root) {
      root = await mkdtemp(join(tmpdir(), 'steward-snapshots-'));
      // Backstop for an abrupt end (a second Ctrl-C, SIGTERM, a closed pipe): `dispose` is the normal path.
      forget = removeOnExit(root);
    }
    return join(root, id);
  };

  const database: Database = {
    kind: 'rds-instance',
    id: o.source.id,
    arn: arnOf('db', o.source.id),
    region: LOCAL,
    engine: o.source.engine ?? 'postgres',
    status: 'available',
    tags: o.source.tags,
  };

  const backup: BackupPort = {
    region: LOCAL,
    listDatabases: async (kinds) => (kinds.includes('rds-instance') ? [database] : []),
    // A local disk has no snapshot quota; an empty list means "no guard" to the planner.
    quotas: async () => [],
    createSnapshot: async (input) => {
      if (snaps.has(input.snapshotId)) return 'already-done';
      if (input.dbId !== o.source.id) throw new StewardError(`no local database ${echo(input.dbId)}`);
      const createdAt = o.now().toISOString();
      const b = await physicalBackup(o.source.server, await dirFor(input.snapshotId));
      o.log?.(
        `${b.method === 'pg_basebackup' ? 'pg_basebackup' : 'base backup (pg_backup_start)'} of ${input.dbId} → ${input.snapshotId} (${(b.bytes / 1e6).toFixed(1)} MB, ${b.ms} ms)`,
      );
      snaps.set(input.snapshotId, {
        dir: b.dataDir,
        snapshot: {
          kind: 'rds-instance',
          id: input.snapshotId,
          arn: arnOf('snapshot', input.snapshotId),
          region: LOCAL,
          sourceId: input.dbId,
          createdAt,
          status: 'available',
          type: 'manual',
          tags: input.tags,
        },
      });
      return 'created';
    },
  };

  const snapshots: SnapshotStore = {
    region: LOCAL,
    list: async (kinds) => ({
      snapshots: kinds.includes('rds-instance') ? [...snaps.values()].map((s) => s.snapshot) : [],
      failures: [],
    }),
    remove: async ({ id }) => {
      const s = snaps.get(id);
      if (!s) return 'already-gone';
      snaps.delete(id);
      await rm(s.dir, { recursive: true, force: true });
      return 'deleted';
    },
  };

  // A local server has no class and no price: the class `local`, and its size as "allocated" storage.
  const localShape = async (): Promise<SourceShape> => {
    // localClient listens for `error`: a server stopped under it (Ctrl-C) fails the query, not the process.
    const c = localClient(o.source.server.connectionString('postgres'));
    await c.connect();
    try {
      const r = await c.query<{ bytes: string }>(
        'select sum(pg_database_size(datname))::text as bytes from pg_database',
      );
      return {
        instanceClass: LOCAL_CLASS,
        instances: 1,
        storageType: LOCAL,
        allocatedGb: Math.ceil(Number(r.rows[0]?.bytes) / 1e9),
      };
    } finally {
      await c.end();
    }
  };
  let shape: Promise<SourceShape> | undefined;

  const status = (r: Restored) => ({
    status: r.status,
    failed: r.status === 'failed',
    ...(r.server && r.status === 'available' && { endpoint: { host: r.server.host, port: r.server.port } }),
  });

  const restore: RestorePort = {
    region: LOCAL,
    listSnapshots: async (kind, dbId) =>
      kind === 'rds-instance'
        ? [...snaps.values()].map((s) => s.snapshot).filter((s) => s.sourceId === dbId)
        : [],
    // Local backups are physical snapshots only: no WAL archive, so no point-in-time window.
    restorableWindow: async () => undefined,
    restore: async (req) => {
      const existing = restored.get(req.targetId);
      if (existing) return { kind: 'rds-instance', id: existing.id, status: existing.status };
      if (req.kind !== 'rds-instance')
        throw new StewardError('the local sandbox restores PostgreSQL instances only');
      if (!req.source.snapshotId)
        throw new StewardError(
          'the sandbox restores snapshots only: local backups have no point-in-time window',
        );
      const snap = snaps.get(req.source.snapshotId);
      if (!snap) {
        throw new SnapshotGoneError(
          `local snapshot ${req.source.snapshotId} of ${req.sourceDbId} no longer exists: ${req.targetId} could not be restored`,
        );
      }
      const r: Restored = {
        kind: 'rds-instance',
        id: req.targetId,
        tags: req.tags,
        createdAt: o.now().toISOString(),
        status: 'creating',
        iamAuth: req.iamAuth === true,
      };
      // Like RDS, the restore runs in the background: `describe` reports `creating` until it is up.
      r.ready = startPostgres({ name: req.targetId, restoreFrom: snap.dir, log: o.log }).then(
        (server) => {
          r.server = server;
          if (restored.get(r.id) === r) r.status = 'available';
          else void server.stop();
        },
        (e: unknown) => {
          r.status = 'failed';
          r.error = (e as Error).message;
        },
      );
      restored.set(r.id, r);
      return { kind: 'rds-instance', id: r.id, status: r.status };
    },
    describe: async (t: TargetRef) => {
      const r = restored.get(t.id);
      if (!r) return { status: 'deleted', failed: true };
      // A local restore takes seconds: wait for it here rather than make the drill poll for minutes.
      await r.ready;
      return { ...status(r), ...(r.status === 'available' ? { shape: await (shape ??= localShape()) } : {}) };
    },
    remove: async (t: TargetRef) => {
      const r = restored.get(t.id);
      if (!r) return 'already-gone';
      if (!r.tags[Tag.drill])
        throw new GuardRefusedError(`refusing to delete ${t.id}: it has no ${Tag.drill} tag`);
      await r.ready;
      restored.delete(t.id);
      await r.server?.stop();
      return 'deleted';
    },
    listDrillResources: async (): Promise<DrillResource[]> =>
      [...restored.values()]
        .filter((r) => r.tags[Tag.drill])
        .map((r) => ({
          kind: r.kind,
          id: r.id,
          drillId: r.tags[Tag.drill]!,
          createdAt: r.createdAt,
          status: r.status,
        })),
    masterSecretArn: async (_kind, dbId) =>
      `arn:local:secretsmanager:${LOCAL}:000000000000:secret:${dbId}-master`,
    sourceShape: async (kind, dbId) =>
      kind === 'rds-instance' && dbId === o.source.id ? localShape() : undefined,
  };

  return {
    backup,
    snapshots,
    restore,
    credentials: {
      get: async (req) => {
        if ('iamUser' in req) {
          const r = [...restored.values()].find(
            (x) => x.server?.host === req.host && x.server.port === req.port,
          );
          if (!r) throw new StewardError(`no restored database at ${req.host}:${req.port}`);
          // What PostgreSQL on RDS answers: the token is checked only where IAM authentication is on.
          if (!r.iamAuth || req.iamUser !== o.credentials.username) {
            throw new StewardError(
              `PAM authentication failed for user "${req.iamUser}" on ${r.id}${r.iamAuth ? '' : ' (restored without IAM database authentication)'}`,
            );
          }
        }
        return { ...o.credentials };
      },
    },
    running: () => [...restored.values()].filter((r) => r.server).map((r) => r.id),
    dispose: async () => {
      for (const r of restored.values()) {
        await r.ready?.catch(() => undefined);
        await r.server?.stop();
      }
      restored.clear();
      snaps.clear();
      if (root) await rm(root, { recursive: true, force: true });
      forget?.();
    },
  };
};
