import type pg from 'pg';
import { pgDriver } from './pg-client.js';
import { errorMessage } from '../../errors.js';
import { quoteTable, redact } from '../checks.js';
import type { PgConnection } from '../verification.js';
import {
  FIRST_QUERY_BLOCKS,
  stopWarmup,
  type WarmupOptions,
  type WarmupProgress,
  type WarmupUnit,
} from '../warmup-progress.js';

// The engine's callers start and report a warm-up with these.
export { newWarmup, type WarmupOptions, type WarmupProgress } from '../warmup-progress.js';

// User relations have oids from FirstNormalObjectId up: system catalogs are never read.
const FIRST_USER_OID = 16384;
// A query reads FIRST_QUERY_BLOCKS first, then adapts to take about `targetMs`.
const TARGET_QUERY_MS = 10_000;
const MIN_QUERY_BLOCKS = 8;
const MAX_QUERY_BLOCKS = 1 << 20;
const UNIT_BLOCKS = 131_072;
// Do not start a query with less time than this left in the call (or a quarter of a short call).
const MIN_QUERY_MS = 1000;

/**
 * The relations in scope: tables and materialized views (`$1`: their oids, or null for all user tables),
 * plus, when `$2` (pg_prewarm), their indexes, TOAST tables and TOAST indexes. pg_prewarm needs SELECT
 * on the relation itself, which only the owner has on an index or TOAST table: those are skipped.
 */
const IN_SCOPE = `
with scope as (
  select c.oid from pg_catalog.pg_class c
  where c.oid >= ${FIRST_USER_OID} and c.relkind in ('r', 'm') and ($1::oid[] is null or c.oid = any($1::oid[]))
), rels as (
  select oid from scope
  union all select i.indexrelid from pg_catalog.pg_index i join scope s on i.indrelid = s.oid where $2::boolean
  union all select t.reltoastrelid from pg_catalog.pg_class t join scope s on t.oid = s.oid
    where $2::boolean and t.reltoastrelid <> 0
  union all select i.indexrelid from pg_catalog.pg_index i
    join pg_catalog.pg_class t on i.indrelid = t.reltoastrelid join scope s on t.oid = s.oid where $2::boolean
), sized as (
  select r.oid, (pg_relation_size(r.oid) / current_setting('block_size')::int)::int8 as blocks,
    has_table_privilege(r.oid, 'select') as readable
  from rels r
)`;

/** The next relations after oid `$3`, at most `$4`, in oid order. */
const NEXT_RELATIONS = `${IN_SCOPE}
select oid::int8 as oid, blocks, readable from sized where oid > $3::oid order by oid limit $4`;

/** How much there is to read. */
const SUMMARY = `${IN_SCOPE}
select count(*) filter (where readable)::int as relations,
  coalesce(sum(blocks) filter (where readable), 0)::int8 as blocks,
  count(*) filter (where not readable)::int as unreadable
from sized`;

/** Quoted relation names PostgreSQL prints for `oid::regclass`. */
const REGCLASS = /^("([^"]|"")+"|[a-z_][a-z0-9_$]*)(\.("([^"]|"")+"|[a-z_][a-z0-9_$]*))?$/;

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

/**
 * Read for at most `chunkMs` from where `progress` left off, with `parallelism` connections, and
 * return the new progress. Never reads past `progress.deadlineAt`. Throws only for a connection that
 * cannot be opened or an unexpected SQL error (the state machine retries, resuming from `progress`).
 */
export const warmUp = async (
  conn: PgConnection,
  progress: WarmupProgress,
  o: WarmupOptions,
): Promise<WarmupProgress> => {
  const started = o.now();
  const hardEnd = Math.min(started + o.chunkMs, Date.parse(progress.deadlineAt));
  const minQueryMs = Math.min(MIN_QUERY_MS, o.chunkMs / 4);
  const targetMs = Math.min(TARGET_QUERY_MS, o.chunkMs / 4);
  const unitBlocks = o.unitBlocks ?? UNIT_BLOCKS;
  const w: WarmupProgress = {
    ...progress,
    inFlight: [],
    notes: [...progress.notes],
    ...(progress.current ? { current: { ...progress.current } } : {}),
  };
  const connect = async () => {
    const c = new pgDriver.Client({
      host: conn.host,
      port: conn.port,
      user: conn.user,
      password: conn.password,
      database: conn.database ?? o.database,
      ssl: conn.ssl,
      connectionTimeoutMillis: o.connectTimeoutMs,
      application_name: 'steward-drill-warmup',
    });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  const clients: pg.Client[] = [];
  try {
    const main = await connect();
    clients.push(main);
    const scope = o.tables === 'all' ? null : await tableOids(main, o.tables, w);
    if (!w.method) {
      await plan(main, scope, conn.user, w);
      // The first query's size, scaled to the chunk: 128 MB in 10 s when chunks are long.
      w.blocksPerQuery = clamp(
        Math.round((FIRST_QUERY_BLOCKS * targetMs) / TARGET_QUERY_MS),
        MIN_QUERY_BLOCKS,
        MAX_QUERY_BLOCKS,
      );
    }
    const whole = w.wholeRelations === true;

    // Hand out units: unfinished ones first, then cut from the current relation, then the next relations.
    const queue = progress.inFlight.map((u) => ({ ...u }));
    const upcoming: { oid: number; blocks: number }[] = [];
    let exhausted = false;
    let fetching: Promise<void> | undefined;
    const fetchMore = async () => {
      const after = upcoming.at(-1)?.oid ?? Math.max(w.cursor, w.current?.oid ?? 0);
      const r = await main.query<{ oid: string; blocks: string; readable: boolean }>(NEXT_RELATIONS, [
        scope,
        w.method === 'pg_prewarm',
        after,
        Math.max(8, o.parallelism * 2),
      ]);
      if (!r.rows.length) exhausted = true;
      for (const row of r.rows) {
        if (row.readable) upcoming.push({ oid: Number(row.oid), blocks: Number(row.blocks) });
        else w.cursor = Math.max(w.cursor, Number(row.oid));
      }
    };
    const take = async (): Promise<WarmupUnit | undefined> => {
      for (;;) {
        const queued = queue.shift();
        if (queued) return queued;
        const cur = w.current;
        if (cur && cur.next < cur.end) {
          const end = whole ? cur.end : Math.min(cur.end, cur.next + unitBlocks);
          const unit = { oid: cur.oid, next: cur.next, end };
          cur.next = end;
          return unit;
        }
        const next = upcoming.shift();
        if (next) {
          w.cursor = next.oid;
          w.current = { oid: next.oid, next: 0, end: next.blocks };
          continue;
        }
        if (exhausted) return undefined;
        fetching ??= fetchMore().finally(() => (fetching = undefined));
        await fetching;
      }
    };

    const unfinished: WarmupUnit[] = [];
    const worker = async (client: pg.Client) => {
      const names = new Map<number, string>();
      for (;;) {
        if (hardEnd - o.now() < minQueryMs) return;
        const unit = await take();
        if (!unit) return;
        while (unit.next < unit.end) {
          const left = hardEnd - o.now();
          if (left < minQueryMs) {
            unfinished.push(unit);
            return;
          }
          const last = whole ? unit.end : Math.min(unit.end, unit.next + w.blocksPerQuery);
          const t = o.now();
          try {
            await client.query(`set statement_timeout = ${Math.floor(left)}`);
            if (w.method === 'pg_prewarm') {
              await client.query("select pg_prewarm($1::oid::regclass, 'read', 'main', $2, $3)", [
                unit.oid,
                unit.next,
                last - 1,
              ]);
            } else {
              const name = names.get(unit.oid) ?? (await relationName(client, unit.oid));
              names.set(unit.oid, name);
              await client.query(
                whole
                  ? `select count(*) from ${name}`
                  : `select count(*) from ${name} where ctid >= $1::tid and ctid < $2::tid`,
                whole ? [] : [`(${unit.next},0)`, `(${last},0)`],
              );
            }
          } catch (e) {
            const code = String((e as { code?: unknown }).code);
            if (code === '57014') {
              // Cancelled at the end of the call: read again next time, in smaller queries.
              w.blocksPerQuery = clamp(Math.floor(w.blocksPerQuery / 4), MIN_QUERY_BLOCKS, MAX_QUERY_BLOCKS);
              unfinished.push(unit);
              return;
            }
            // Dropped or unreadable: the copy is nobody else's, so note it and go on.
            if (code === '42P01' || code === '42501') {
              w.notes.push(`relation ${unit.oid} skipped: ${redact(errorMessage(e), [conn.password])}`);
              w.blocksTotal -= unit.end - unit.next;
              break;
            }
            throw e;
          }
          const ms = Math.max(1, o.now() - t);
          const read = last - unit.next;
          w.blocksRead += read;
          unit.next = last;
          // Aim at `targetMs` per query, growing at most 4x at a time.
          w.blocksPerQuery = clamp(
            Math.round((read * targetMs) / ms),
            MIN_QUERY_BLOCKS,
            Math.min(MAX_QUERY_BLOCKS, Math.max(read, w.blocksPerQuery) * 4),
          );
        }
      }
    };
    // `main` plans and hands out relations; each worker reads on its own connection.
    const workers: pg.Client[] = [];
    for (let i = 0; i < o.parallelism; i++) {
      const c = await connect();
      clients.push(c);
      workers.push(c);
    }
    await Promise.all(workers.map(worker));
    // Units no worker got to, and those cut short, are read first next time.
    w.inFlight = [...unfinished, ...queue];
    w.chunks++;
    w.readMs += Math.round(o.now() - started);
    const more =
      w.inFlight.length > 0 ||
      upcoming.length > 0 ||
      (w.current !== undefined && w.current.next < w.current.end) ||
      !exhausted;
    if (!more) {
      const at = new Date(o.now()).toISOString();
      const { current: _done, ...rest } = w;
      return { ...rest, pending: false, complete: true, finishedAt: at };
    }
    if (o.now() >= Date.parse(w.deadlineAt) - minQueryMs) {
      return stopWarmup(w, 'deadline', 'warmup.maxSeconds reached', new Date(o.now()));
    }
    return w;
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
};

/** The oids of the listed tables (a missing one is noted once, when the warm-up is planned). */
const tableOids = async (client: pg.Client, tables: string[], w: WarmupProgress): Promise<number[]> => {
  const oids: number[] = [];
  for (const t of tables) {
    const r = await client.query<{ oid: string | null }>('select to_regclass($1)::oid::int8 as oid', [
      quoteTable(t),
    ]);
    const oid = r.rows[0]?.oid;
    if (oid) oids.push(Number(oid));
    else if (!w.method) w.notes.push(`table ${t} not found: not warmed`);
  }
  return oids;
};

/** First call: pick the method and count what there is to read. */
const plan = async (client: pg.Client, scope: number[] | null, user: string, w: WarmupProgress) => {
  const r = await client.query<{ prewarm: boolean; version: number; block_size: number }>(
    "select exists(select 1 from pg_catalog.pg_extension where extname = 'pg_prewarm') as prewarm," +
      " current_setting('server_version_num')::int as version, current_setting('block_size')::int as block_size",
  );
  const row = r.rows[0]!;
  w.method = row.prewarm ? 'pg_prewarm' : 'tid-range';
  w.blockSize = row.block_size;
  const s = await client.query<{ relations: number; blocks: string; unreadable: number }>(SUMMARY, [
    scope,
    row.prewarm,
  ]);
  w.relations = s.rows[0]!.relations;
  w.blocksTotal = Number(s.rows[0]!.blocks);
  if (!row.prewarm) {
    w.notes.push('pg_prewarm not installed: table heaps only (indexes and TOAST are not read)');
    if (row.version < 140000) {
      w.wholeRelations = true;
      w.notes.push(`PostgreSQL ${row.version} has no TID range scans: each table is read whole`);
    }
  }
  if (s.rows[0]!.unreadable) {
    w.notes.push(`${s.rows[0]!.unreadable} relations not readable by ${user} (not their owner): skipped`);
  }
};

const relationName = async (client: pg.Client, oid: number): Promise<string> => {
  const r = await client.query<{ name: string }>('select $1::oid::regclass::text as name', [oid]);
  const name = r.rows[0]?.name ?? '';
  // Only a name PostgreSQL itself printed (quoted where needed) is put into SQL text.
  if (!REGCLASS.test(name))
    throw new Error(`unexpected relation name for oid ${oid}: ${JSON.stringify(name)}`);
  return name;
};
