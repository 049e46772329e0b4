import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import * as z from '../zod.js';
import { parseConfig, type StewardConfig } from '../config/schema.js';
import { ConfigError, EventShapeError, formatIssues } from '../errors.js';
import type { Database, Snapshot } from '../model.js';
import { DatabaseRecord, SnapshotRecord } from '../retention/inventory.js';
import type { EstateReader, HistoryStore, StoredObject } from './ports.js';
import type { StatusDeps } from './status.js';

/**
 * The local sandbox's history: `npm start` leaves, under `.steward/`, a directory laid out like the report
 * bucket (`reports/drills/…`, `reports/runs/…`) and `estate.json`, the record of the databases and
 * snapshots it made, with the config it ran with. `steward status --local` and `steward report --local`
 * read it through the same ports as the AWS adapters. For the sandbox and tests; never deployed.
 */
export const LOCAL_ROOT = '.steward';
const ESTATE_FILE = 'estate.json';
const REPORTS_DIR = 'reports';
/** The sandbox keeps a record of at most this many snapshots (the oldest records go first). */
const MAX_SNAPSHOT_RECORDS = 400;

/** HistoryStore over a directory: keys are relative paths with `/`. */
export const fileHistory = (dir: string): HistoryStore => {
  const walk = async (d: string): Promise<string[]> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const nested = await Promise.all(
      entries.map((e) => (e.isDirectory() ? walk(join(d, e.name)) : Promise.resolve([join(d, e.name)]))),
    );
    return nested.flat();
  };
  return {
    location: dir,
    href: (key) => join(dir, ...key.split('/')),
    list: async (prefix) => {
      const files = await walk(dir);
      const out: StoredObject[] = [];
      for (const f of files) {
        const key = relative(dir, f).split(sep).join('/');
        if (!key.startsWith(prefix)) continue;
        out.push({ key, lastModified: (await stat(f)).mtime.toISOString() });
      }
      return out.sort((a, b) => a.key.localeCompare(b.key));
    },
    get: async (key) => {
      try {
        return await readFile(join(dir, ...key.split('/')), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    put: async (key, body) => {
      const file = join(dir, ...key.split('/'));
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, body);
    },
  };
};

/** `estate.json`: what the sandbox made, and the config it ran with. */
export const LocalEstateFile = z.object({
  type: z.literal('steward-local-estate'),
  version: z.literal(1),
  /** The config the sandbox ran with (validated again on read). */
  config: z.record(z.string(), z.unknown()),
  databases: z.array(DatabaseRecord),
  snapshots: z.array(SnapshotRecord),
  drSnapshots: z._default(z.array(SnapshotRecord), []),
});
export type LocalEstateFile = z.infer<typeof LocalEstateFile>;

const localReader = (region: string, databases: Database[], snapshots: Snapshot[]): EstateReader => ({
  region,
  databases: async () => databases,
  snapshots: async () => snapshots,
});

/**
 * Record what a sandbox run made: its databases replace the previous ones, its snapshots join the record
 * of earlier runs' (by id; the backups themselves were removed with the run's temp dirs).
 */
export const saveLocalEstate = async (
  root: string,
  run: { config: Record<string, unknown>; databases: Database[]; snapshots: Snapshot[] },
): Promise<string> => {
  const file = join(root, ESTATE_FILE);
  let previous: Snapshot[] = [];
  try {
    const old = LocalEstateFile.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (old.success) previous = old.data.snapshots;
  } catch {
    // No record yet (or an unreadable one, which this run replaces).
  }
  const ids = new Set(run.snapshots.map((s) => s.id));
  const snapshots = [...previous.filter((s) => !ids.has(s.id)), ...run.snapshots].slice(
    -MAX_SNAPSHOT_RECORDS,
  );
  const doc: LocalEstateFile = {
    type: 'steward-local-estate',
    version: 1,
    config: run.config,
    databases: run.databases,
    snapshots,
    drSnapshots: [],
  };
  await mkdir(root, { recursive: true });
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
};

/** The directory that mirrors the report bucket. */
export const localReports = (root: string): HistoryStore => fileHistory(join(root, REPORTS_DIR));

/** Status deps over a sandbox history directory: its recorded estate and config, its reports. */
export const loadLocalEstate = async (
  root: string,
  now: () => Date,
): Promise<StatusDeps & { config: StewardConfig }> => {
  const file = join(root, ESTATE_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(`no sandbox history at ${file}: run npm start first (it records its runs there)`);
    }
    throw new EventShapeError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = LocalEstateFile.safeParse(raw);
  if (!parsed.success)
    throw new EventShapeError(`Invalid sandbox history (${file})`, formatIssues(parsed.error.issues));
  const config = parseConfig(parsed.data.config, file);
  return {
    config,
    primary: localReader('local', parsed.data.databases, parsed.data.snapshots),
    dr: localReader('local-dr', [], parsed.data.drSnapshots),
    history: localReports(root),
    now,
  };
};
