import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { StewardError } from '../../errors.js';

// Local redis-server processes for the Redis sandbox, its tests and the bench: each in its own temp dir on
// a free loopback port, stopped and removed on every path (also on exit and on a signal).

export class RedisServerError extends StewardError {
  override name = 'RedisServerError';
}

export interface StartRedisOptions {
  /** Names the server in messages. */
  name: string;
  /** Start from this RDB file (copied into the server's own dir): how a restore from a snapshot loads. */
  rdbFile?: string;
  /** TLS only (the plain port is closed): PEM file paths; clients are not asked for certificates. */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** More `redis-server` arguments, e.g. `['--requirepass', token]`. Never logged. */
  args?: string[];
}

export interface RedisServer {
  name: string;
  host: string;
  port: number;
  /** The server's temp dir: its `dump.rdb` is written here. */
  dir: string;
  pid: number;
  /** Stop (SIGTERM; no save is configured) and remove the dir. Idempotent. */
  stop(): Promise<void>;
}

interface Running {
  child: ChildProcess;
  dir: string;
  exited: boolean;
}
const running = new Set<Running>();

/** The `redis-server` binary: `STEWARD_REDIS_SERVER`, else the first on PATH, else undefined. */
export const findRedisServer = (env: NodeJS.ProcessEnv = process.env): string | undefined => {
  if (env.STEWARD_REDIS_SERVER) return env.STEWARD_REDIS_SERVER;
  for (const dir of (env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/usr/local/bin', '/usr/sbin'])) {
    if (dir && existsSync(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  }
  return undefined;
};

const requireRedisServer = (): string => {
  const bin = findRedisServer();
  if (!bin) {
    throw new RedisServerError(
      'no redis-server on this machine: install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set STEWARD_REDIS_SERVER',
    );
  }
  return bin;
};

const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        addr && typeof addr === 'object' ? done(addr.port) : fail(new Error('no port assigned')),
      );
    });
  });

class PortInUse extends RedisServerError {}

const STARTUP_MS = 60_000;

const launch = (opts: StartRedisOptions, dir: string, port: number): Promise<RedisServer> =>
  new Promise((resolve, reject) => {
    const args = [
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--dbfilename',
      'dump.rdb',
      // Snapshots are taken on request (BGSAVE), as ElastiCache does; nothing is written on its own.
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
      '--protected-mode',
      'no',
      ...(opts.tls
        ? [
            '--port',
            '0',
            '--tls-port',
            String(port),
            '--tls-cert-file',
            opts.tls.certFile,
            '--tls-key-file',
            opts.tls.keyFile,
            '--tls-ca-cert-file',
            opts.tls.caFile,
            '--tls-auth-clients',
            'no',
          ]
        : ['--port', String(port)]),
      ...(opts.args ?? []),
    ];
    const child = spawn(requireRedisServer(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const r: Running = { child, dir, exited: false };
    running.add(r);
    installExitHandlers();
    const log: string[] = [];
    let settled = false;
    const timer = setTimeout(() => fail(`did not start within ${STARTUP_MS / 1000} s`), STARTUP_MS);
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      running.delete(r);
      const tail = log.slice(-10).join('\n');
      const E = /Address already in use/.test(tail) ? PortInUse : RedisServerError;
      reject(
        new E(`redis-server "${opts.name}" on 127.0.0.1:${port} ${why}; log tail:\n${tail || '(empty)'}`),
      );
    };
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log.push(line);
      if (log.length > 200) log.splice(0, log.length - 200);
      if (!settled && /Ready to accept connections/.test(chunk.toString('utf8'))) {
        settled = true;
        clearTimeout(timer);
        resolve(server);
      }
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    child.on('error', (e) => fail(`could not start: ${e.message}`));
    child.on('exit', (code, signal) => {
      r.exited = true;
      fail(`exited (${signal ?? `code ${code}`})`);
    });
    let stopping: Promise<void> | undefined;
    const server: RedisServer = {
      name: opts.name,
      host: '127.0.0.1',
      port,
      dir,
      get pid() {
        return child.pid ?? 0;
      },
      stop: () =>
        (stopping ??= (async () => {
          if (!r.exited) {
            const exited = new Promise<void>((done) => child.once('exit', () => done()));
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(killer);
          }
          running.delete(r);
          await rm(dir, { recursive: true, force: true });
        })()),
    };
  });

/** Start a redis-server on a free loopback port in its own temp dir (optionally from an RDB file). */
export const startRedis = async (opts: StartRedisOptions): Promise<RedisServer> => {
  requireRedisServer();
  const dir = mkdtempSync(join(tmpdir(), `steward-redis-${opts.name}-`));
  try {
    if (opts.rdbFile) await copyFile(opts.rdbFile, join(dir, 'dump.rdb'));
    // A picked port can be taken before the server binds it; pick again then.
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(opts, dir, await freePort());
      } catch (e) {
        if (!(e instanceof PortInUse) || attempt >= 3) throw e;
      }
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
};

/** Stop every redis-server this process started. */
export const stopAllRedis = async (): Promise<void> => {
  await Promise.all(
    [...running].map(async (r) => {
      if (!r.exited) {
        const exited = new Promise<void>((done) => r.child.once('exit', () => done()));
        r.child.kill('SIGTERM');
        await exited;
      }
      running.delete(r);
      await rm(r.dir, { recursive: true, force: true });
    }),
  );
};

/** Stop every redis-server now, synchronously (exit, a second Ctrl-C): SIGKILL, then remove the dirs. */
export const stopAllRedisSync = (): void => {
  for (const r of running) {
    if (!r.exited) r.child.kill('SIGKILL');
    rmSync(r.dir, { recursive: true, force: true });
  }
  running.clear();
};

const onExitOnce = { installed: false };
const installExitHandlers = () => {
  if (onExitOnce.installed) return;
  onExitOnce.installed = true;
  process.on('exit', stopAllRedisSync);
};
