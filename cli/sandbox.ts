import '../infra/node20-compat.js';
import { randomBytes } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type LocalDrillEvent, runDrillLocally } from '../infra/local-drill.js';
import * as backupFn from '../functions/backup/handler.js';
import type { SnapshotLister } from '../shared/backup/ports.js';
import { parseConfig, type StewardConfig } from '../shared/config/schema.js';
import { LOCAL_ROOT, saveLocalEstate } from '../shared/report/local-history.js';
import { StewardError } from '../shared/errors.js';
import { LOCAL, LOCAL_CLASS, localEstate, type LocalEstate } from '../shared/drill/local/local-provider.js';
import {
  findPgBinaries,
  localClient,
  type PgBinaries,
  type PgServer,
  startPostgres,
  stopAllPostgres,
  stopAllPostgresSync,
} from '../shared/drill/local/postgres-server.js';
import { drillReport } from '../shared/drill/report.js';
import { formatBytes } from '../shared/drill/checks.js';
import { renderDrillReport } from '../shared/drill/rto-rpo.js';
import {
  loadSampleData,
  MAX_SAMPLE_ROWS,
  SAMPLE_BYTES_PER_ROW,
  sampleDatabase,
  sampleProfile,
} from '../shared/drill/local/sample-data.js';
import { warmupPercent } from '../shared/drill/warmup-progress.js';
import type { DrillDeps, VerifyDeps } from '../shared/drill/tasks.js';
import { runVerifyTask } from '../shared/drill/verify-tasks.js';
import { verifyDatabase } from '../shared/drill/verifier/verify.js';
import { warmUp } from '../shared/drill/verifier/warmup.js';
import type { BaseDeps } from '../shared/runtime.js';
import { UsageError } from './base.js';
import {
  fileReports,
  firstDrillIfAsked,
  type LocalExecute,
  localControlTasks,
  localSignal,
  memoryTokens,
  sandboxExecutionName,
  sandboxExit,
  sandboxRun,
  seconds,
  stateLog,
} from './sandbox-ports.js';
import { synthesizeDrillOnce } from './synth-drill.js';
import { type Notification, renderNotification } from '../shared/notify/notifier.js';
import type { Flags } from './flags.js';

/** Ways `--break` damages the source before the backup, each caught by a different check. */
export const BREAKS = {
  'missing-table': {
    what: 'drops the accounts table before the backup',
    sql: ['drop table accounts cascade'],
  },
  'rows-lost': {
    what: 'deletes the oldest quarter of the transactions before the backup',
    sql: ['delete from transactions where id <= (select max(id) / 4 from transactions)'],
  },
  stale: {
    what: 'makes the newest data two hours old (RPO breach)',
    sql: ['users', 'accounts', 'transactions'].map(
      (t) => `update ${t} set created_at = created_at - interval '2 hours'`,
    ),
  },
  orphans: {
    what: 'writes transactions whose account does not exist',
    sql: [
      'alter table transactions drop constraint if exists transactions_account_id_fkey',
      "insert into transactions (account_id, amount_cents, kind, description, occurred_at, created_at) select 999999999, 100, 'deposit', 'orphan', now(), now() from generate_series(1, 3)",
    ],
  },
} as const;
export type BreakKind = keyof typeof BREAKS;

const SOURCE_ID = 'app-db';

/** Exit codes of a run ended by a signal: 128 + the signal number, as shells report it. */
const READER = 'drill_reader';

/** `--size 200000` rows, or a database size: `--size 80MB`, `--size 1GB` (about 172 bytes per transaction). */
export const parseSize = (raw: string | undefined): number => {
  if (raw === undefined) return 50_000;
  const m = /^(\d+(?:\.\d+)?)\s*(mb|gb)?$/i.exec(raw.trim());
  if (!m) throw new UsageError(`--size takes a row count (200000) or a size (50MB, 1GB), got "${raw}"`);
  const n = Number(m[1]);
  const unit = m[2]?.toLowerCase();
  const rows = unit ? Math.round((n * (unit === 'gb' ? 1e9 : 1e6)) / SAMPLE_BYTES_PER_ROW) : Math.round(n);
  if (rows < 100 || rows > MAX_SAMPLE_ROWS)
    throw new UsageError(
      `--size must mean 100 to ${MAX_SAMPLE_ROWS.toLocaleString('en')} rows (about 100GB), got ${rows}`,
    );
  return rows;
};

/**
 * Disk the sandbox needs under the temp dir for `rows`: the source, its backup and the restored copy
 * (three copies of the database), plus WAL written while loading and backing up.
 */
export const sandboxDiskBytes = (rows: number): number => Math.ceil(rows * SAMPLE_BYTES_PER_ROW * 3.3) + 1e9;

/** Why `rows` do not fit in `freeBytes` of `dir`, or undefined when they do. */
export const diskProblem = (rows: number, freeBytes: number, dir: string): string | undefined => {
  const need = sandboxDiskBytes(rows);
  return freeBytes >= need
    ? undefined
    : `--size ${rows.toLocaleString('en')} rows needs about ${formatBytes(need)} free in ${dir} ` +
        `(source, backup and restored copy), but ${formatBytes(freeBytes)} is free: pick a smaller --size or set TMPDIR`;
};

/** Refuse a size this machine's temp dir cannot hold, before starting anything. */
const checkDisk = async (rows: number): Promise<void> => {
  const fs = await statfs(tmpdir());
  const problem = diskProblem(rows, fs.bavail * fs.bsize, tmpdir());
  if (problem) throw new UsageError(problem);
};

/** The sandbox's stage config: the shipped dev defaults plus one drill target, the sample database. */
const sandboxConfigInput = (baselines: Record<string, number>) => ({
  stage: 'dev',
  region: 'eu-west-1',
  backup: { policies: { daily: { kinds: ['rds-instance'], retention: 'standard' } } },
  drill: {
    enabled: true,
    targets: {
      [SOURCE_ID]: {
        kind: 'rds-instance',
        snapshot: 'latest',
        // As in AWS by default: IAM database authentication as a read-only role (not the master user).
        auth: 'iam',
        iamUser: READER,
        profile: {
          ...sampleProfile,
          // The intact source's counts stand in for "recorded by the last successful drill".
          tables: sampleProfile.tables.map((t) => ({ ...t, baselineRows: baselines[t.name] })),
        },
        // Short chunks, so the resumable warm-up loop shows at sandbox sizes.
        warmup: { chunkSeconds: 30 },
      },
    },
    // A local server costs nothing: the report still shows its instance-hours.
    prices: { instanceUsdPerHour: { [LOCAL_CLASS]: 0 } },
  },
});

/** Which PostgreSQL the sandbox runs, and where it came from. */
export const describeBinaries = (b: PgBinaries): string =>
  b.source === 'npm'
    ? `${b.version} from the npm package ${b.package} (no PostgreSQL server binaries on this machine)`
    : `${b.version} from ${b.dir}${b.source === 'STEWARD_PG_BIN_DIR' ? ' (STEWARD_PG_BIN_DIR)' : ''}`;

/**
 * `npm start`: a complete restore drill with no AWS. A local PostgreSQL holds a seeded money-tracking
 * database; the backup core snapshots it through the local provider (pg_basebackup); the drill state
 * machine that CDK synthesizes runs locally and restores the snapshot into a separate PostgreSQL server,
 * verifies it over TCP with the verification engine, records RTO/RPO and removes the copy.
 */
export const sandbox = async (_: string[], flags: Flags, out: (s: string) => void): Promise<number> => {
  if (flags.engine !== undefined && flags.engine !== 'postgres') {
    if (flags.engine === 'ebs') return (await import('./sandbox-ebs.js')).sandboxEbs(flags, out);
    if (flags.engine !== 'redis')
      throw new UsageError(`--engine takes postgres, redis or ebs, got "${flags.engine}"`);
    return (await import('./sandbox-redis.js')).sandboxRedis(flags, out);
  }
  const rows = parseSize(flags.size);
  // Where the run leaves its history (drill reports, the estate record) for `steward status --local`.
  const historyRoot = resolve(flags.history ?? LOCAL_ROOT);
  const breakKind = flags.break as BreakKind | undefined;
  if (breakKind !== undefined && !(breakKind in BREAKS)) {
    throw new UsageError(`--break takes one of ${Object.keys(BREAKS).join(', ')}, got "${breakKind}"`);
  }
  await checkDisk(rows);
  const t0 = Date.now();
  const run = sandboxRun(flags, out, {
    what: 'every server and temp dir',
    again: 'stopping every server and removing every temp dir',
    atOnce: stopAllPostgresSync,
  });
  const { say, step, abort } = run;

  let source: PgServer | undefined;
  let estate: LocalEstate | undefined;
  try {
    say(
      `steward sandbox: a restore drill on this machine, no AWS (${rows.toLocaleString('en')} transactions)\n`,
    );
    source = await step(
      'started the source PostgreSQL',
      () => startPostgres({ name: 'source' }),
      'starting the source PostgreSQL',
    );
    say(`    ${describeBinaries(findPgBinaries())}`);
    const password = randomBytes(18).toString('base64url');
    const admin = localClient(source.connectionString('postgres'));
    await admin.connect();
    await admin.query(`create database ${sampleDatabase}`);
    await admin.query(`create role ${READER} login password '${password}'`);
    await admin.end();

    const app = localClient(source.connectionString(sampleDatabase));
    await app.connect();
    const baselines: Record<string, number> = {};
    try {
      say(`  … loading the sample database (${rows.toLocaleString('en')} transactions)`);
      const loaded = await step(
        `loaded the sample database (seed 42)`,
        () => loadSampleData(app, { rows, seed: 42, now: new Date() }),
        'loading the sample database',
      );
      say(`    ${loaded.users} users, ${loaded.accounts} accounts, ${loaded.transactions} transactions`);
      await app.query(`grant select on all tables in schema public to ${READER}`);
      for (const t of sampleProfile.tables) {
        const r = await app.query<{ n: string }>(`select count(*) as n from ${t.name}`);
        baselines[t.name] = Number(r.rows[0]!.n);
      }
      if (breakKind) {
        await step(`--break ${breakKind}: ${BREAKS[breakKind].what}`, async () => {
          for (const q of BREAKS[breakKind].sql) await app.query(q);
        });
      }
    } finally {
      await app.end();
    }

    const configInput = sandboxConfigInput(baselines);
    const config: StewardConfig = parseConfig(configInput, 'sandbox');
    // What would be published, one line each: the full message is the report printed at the end.
    const notifier = {
      send: async (n: Notification) =>
        say(`    ✉ ${n.severity} topic: ${renderNotification(n, config.stage).subject}`),
    };
    const base: BaseDeps = { config, dryRun: false, notifier, now: () => new Date() };
    estate = localEstate({
      source: { id: SOURCE_ID, server: source, tags: { 'steward:backup': 'daily' } },
      credentials: { username: READER, password },
      now: base.now,
    });

    // Backup: the real backup core, through the local provider behind the same ports as RDS.
    const noDr: SnapshotLister = {
      region: `${LOCAL}-dr`,
      list: async () => ({ snapshots: [], failures: [] }),
    };
    const backup = await step(
      'took a snapshot with the backup core',
      () =>
        backupFn.run(
          { action: 'scheduled-backup', policy: 'daily', scheduledTime: new Date().toISOString() },
          {
            ...base,
            notifier: { send: async () => {} },
            primary: estate!.backup,
            dr: {
              region: `${LOCAL}-dr`,
              copySnapshot: async () => {
                throw new StewardError('the sandbox has no DR region');
              },
            },
            snapshots: { primary: estate!.snapshots, dr: noDr },
          },
        ),
      'taking a snapshot with the backup core',
    );
    const created = backup.outcomes.find((o) => o.action === 'create-snapshot');
    say(`    ${created?.status === 'done' ? created.detail : JSON.stringify(created)}`);

    // The drill: the state machine definition CDK synthesizes, executed locally.
    const definition = await step(
      'synthesized the drill state machine (the CDK definition)',
      () => synthesizeDrillOnce(configInput, abort.signal),
      'synthesizing the drill state machine with CDK (about 5 s)',
    );
    const { signal, settled } = localSignal();
    const reports = fileReports(join(historyRoot, 'reports'));
    // The sandbox runs every task in this process: the control plane's and the verifier's, with the real engine.
    const deps: DrillDeps & VerifyDeps = {
      ...base,
      restore: estate.restore,
      credentials: estate.credentials,
      verify: verifyDatabase,
      warmUp,
      tokens: memoryTokens(),
      signal,
      reports,
      network: {},
      // Loopback to a server this process started: no TLS locally. In AWS the verifier verifies the certificate.
      ssl: false,
    };
    // One execution of the drill: the control tasks of `control`, the verifier's with the real engine.
    const execute: LocalExecute = (control, executionName, onEvent) =>
      runDrillLocally({
        definition,
        input: { database: SOURCE_ID },
        executionName,
        waitMs: 120_000,
        signal: abort.signal,
        onEvent,
        tasks: async (event) => {
          if (event.task === 'verify') return runVerifyTask(event, deps);
          if (event.task === 'warmup') {
            const next = await runVerifyTask(event, deps);
            const w = next.warmup;
            if (w) {
              say(
                `      warm-up ${warmupPercent(w).toFixed(0)} %: ${formatBytes(w.blocksRead * w.blockSize)} of ` +
                  `${formatBytes(w.blocksTotal * w.blockSize)} (${w.method ?? '?'}, chunk ${w.chunks})`,
              );
            }
            return next;
          }
          return control.run(event);
        },
      });
    // STEWARD_SANDBOX_FIRST_DRILL=1 (the bench's overhead row): a first drill in this process, before the reported one.
    const firstDrill = await firstDrillIfAsked(deps, execute);
    say('\n  drill (Step Functions, local):');
    // The execution's state log (entered/succeeded/failed, epoch ms): `--json` prints it, the bench reads it.
    const events: LocalDrillEvent[] = [];
    const control = localControlTasks(deps, settled);
    const result = await execute(control, sandboxExecutionName(new Date()), stateLog(events, say));

    const state = control.final(result);
    const doc = drillReport(state);
    const leftovers = estate.running();
    const history = await saveLocalEstate(historyRoot, {
      config: configInput,
      databases: await estate.backup.listDatabases(['rds-instance']),
      snapshots: (await estate.snapshots.list(['rds-instance'])).snapshots,
    });
    if (flags.json) {
      out(
        JSON.stringify(
          {
            status: result.status,
            error: result.error,
            path: result.path,
            events,
            report: doc,
            history,
            postgres: findPgBinaries(),
            ...(firstDrill ? { firstDrill } : {}),
          },
          null,
          2,
        ),
      );
    } else {
      say('');
      if (doc.metrics && doc.verification) {
        say(
          renderDrillReport({
            database: doc.database,
            snapshotId: doc.source?.snapshotId ?? '(point in time)',
            restoredInstance: doc.target?.id,
            metrics: doc.metrics,
            verification: doc.verification,
            ...(doc.shape ? { shape: doc.shape } : {}),
            ...(doc.cost ? { cost: doc.cost } : {}),
          }),
        );
      } else {
        say(
          `DR drill FAILED at ${doc.failedStep ?? result.error?.Error ?? 'an unknown step'}: ${doc.summary}`,
        );
      }
      say(`\nReport: ${reports.written[0] ?? '(not written)'}`);
      say(
        `History: ${history} (steward status --local, steward report --local --month ${doc.startedAt.slice(0, 7)})`,
      );
      say(
        `Cleanup: drill copy ${doc.cleanup?.status ?? 'not reached'}; ${leftovers.length} restored servers left running`,
      );
      say(`Total: ${seconds(Date.now() - t0)}`);
    }
    return sandboxExit(leftovers, run.stopped(), result.status === 'SUCCEEDED' && doc.passed);
  } catch (e) {
    return run.failed(e);
  } finally {
    await estate?.dispose();
    await source?.stop();
    await stopAllPostgres();
    run.close();
  }
};
