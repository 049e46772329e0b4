// A query of the warm-up reads this many blocks first, then adapts (see ./verifier/warmup.ts).
export const FIRST_QUERY_BLOCKS = 16_384;

/**
 * The full read that pulls a restored copy's lazily loaded storage in (RDS restores blocks from S3 on
 * first access), in bounded chunks: each call reads for at most `chunkMs` and returns where it got, so
 * a Step Functions loop can run it again and again; a call that fails is retried from where the last
 * one left off. The reading happens inside PostgreSQL; only a count comes back over the network.
 *
 * Relations are taken in oid order and cut into units of at most `unitBlocks` blocks, which
 * `parallelism` connections read at once (so one huge table is read in parallel too). A unit is read
 * with `pg_prewarm(rel, 'read', 'main', first, last)` when the extension is installed (tables, their
 * indexes and TOAST), else with `count(*)` over a TID range scan (`ctid >= '(first,0)' and ctid <
 * '(last,0)'`, PostgreSQL 14+; table heaps only).
 */
export interface WarmupProgress {
  /** The state machine runs the warm-up task again while this is true. */
  pending: boolean;
  startedAt: string;
  /** `warmup.maxSeconds` after the start: reading stops there, reporting how far it got. */
  deadlineAt: string;
  finishedAt?: string;
  method?: 'pg_prewarm' | 'tid-range';
  /** Relations are handed out in oid order: every relation up to this oid has been (or is `current`). */
  cursor: number;
  /** The relation being cut into units, and its next block not yet handed out. */
  current?: WarmupUnit;
  /** Units handed out but not finished when the last call ended: read first. */
  inFlight: WarmupUnit[];
  /** Relations in scope, counted when the warm-up is planned. */
  relations: number;
  blocksTotal: number;
  blocksRead: number;
  blockSize: number;
  /** Blocks one query reads: adapted to take about 10 s (less for short chunks). */
  blocksPerQuery: number;
  /** Calls made (each at most one `chunkSeconds`). */
  chunks: number;
  /** Time spent inside the calls. */
  readMs: number;
  complete: boolean;
  /** PostgreSQL before 14 has no TID range scan: a table is read whole, in one query. */
  wholeRelations?: boolean;
  stopped?: { reason: 'deadline' | 'cost-ceiling'; detail: string; at: string };
  notes: string[];
}

/** A relation and the block range [next, end) still to read. */
export interface WarmupUnit {
  oid: number;
  next: number;
  end: number;
}

export interface WarmupOptions {
  /** `all` user tables, or these (`table` or `schema.table`). */
  tables: 'all' | string[];
  parallelism: number;
  /** This call's reading time. */
  chunkMs: number;
  connectTimeoutMs: number;
  database: string;
  now: () => number;
  /** Largest unit of work; default 131 072 blocks (1 GiB of 8 KB blocks). */
  unitBlocks?: number;
}

/** A new warm-up, not yet planned: the first call lists the relations. */
export const newWarmup = (startedAt: Date, maxSeconds: number): WarmupProgress => ({
  pending: true,
  startedAt: startedAt.toISOString(),
  deadlineAt: new Date(startedAt.getTime() + maxSeconds * 1000).toISOString(),
  cursor: 0,
  inFlight: [],
  relations: 0,
  blocksTotal: 0,
  blocksRead: 0,
  blockSize: 8192,
  blocksPerQuery: FIRST_QUERY_BLOCKS,
  chunks: 0,
  readMs: 0,
  complete: false,
  notes: [],
});

/** Share of the blocks read, 0–100. */
export const warmupPercent = (w: Pick<WarmupProgress, 'blocksRead' | 'blocksTotal' | 'complete'>): number =>
  w.complete || w.blocksTotal === 0 ? 100 : Math.min(100, (w.blocksRead / w.blocksTotal) * 100);

/** Stop a warm-up without reading further (deadline or cost ceiling). */
export const stopWarmup = (
  w: WarmupProgress,
  reason: NonNullable<WarmupProgress['stopped']>['reason'],
  detail: string,
  at: Date,
): WarmupProgress => ({
  ...w,
  pending: false,
  stopped: { reason, detail, at: at.toISOString() },
  finishedAt: at.toISOString(),
});
