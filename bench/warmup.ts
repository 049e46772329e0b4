import pg from 'pg';
import { startPostgres } from '../shared/drill/local/postgres-server.js';
import { loadSampleData, sampleDatabase } from '../shared/drill/local/sample-data.js';
import { newWarmup, warmUp, type WarmupProgress } from '../shared/drill/verifier/warmup.js';
import { type BenchRow, median } from './stats.js';

// The shipped chunk: what one verifier invocation reads before the state machine loops.
const SHIPPED_CHUNK_S = 600;

/**
 * What resuming costs: the same warm-up read in one call, and in calls of `shortChunkMs` each resuming
 * from the last one's progress (a new connection, the plan, the query size ramp: what every Step
 * Functions loop iteration pays), interleaved `runs` times. The difference per extra call, against a
 * shipped 600 s chunk, is the price of the Lambda loop over one long-running reader (a Fargate task).
 * Self-test: the same reads with a pause of 1 % of a chunk added to every call must turn the row red.
 */
export const benchWarmupChunks = async (
  rows: number,
  shortChunkMs: number,
  runs: number,
): Promise<BenchRow[]> => {
  const server = await startPostgres({ name: 'bench-warmup' });
  try {
    const admin = new pg.Client(server.connectionString());
    await admin.connect();
    await admin.query(`create database ${sampleDatabase}`);
    await admin.end();
    await loadSampleData(server.connectionString(sampleDatabase), { rows, seed: 7, now: new Date() });
    const conn = { host: server.host, port: server.port, user: server.superuser, password: '' };
    const readAll = async (chunkMs: number) => {
      const t = performance.now();
      let p: WarmupProgress = newWarmup(new Date(), 3600);
      while (p.pending) {
        p = await warmUp(conn, p, {
          tables: 'all',
          parallelism: 2,
          chunkMs,
          connectTimeoutMs: 10_000,
          database: sampleDatabase,
          now: () => Date.now(),
        });
      }
      if (!p.complete) throw new Error(`warm-up did not complete: ${JSON.stringify(p.stopped)}`);
      return { ms: performance.now() - t, chunks: p.chunks, bytes: p.blocksRead * p.blockSize };
    };
    await readAll(3_600_000); // the first read pulls the files into the page cache: not measured
    const one: number[] = [];
    const many: { ms: number; chunks: number }[] = [];
    for (let i = 0; i < runs; i++) {
      one.push((await readAll(3_600_000)).ms);
      many.push(await readAll(shortChunkMs));
    }
    const oneMs = median(one);
    const chunks = median(many.map((m) => m.chunks));
    // Resume cost per extra call, as a share of the shipped chunk; `pauseMs` is the self-test's injected pause.
    const resumeRow = (pauseMs: number) => {
      const manyMs = median(many.map((m) => m.ms + m.chunks * pauseMs));
      const perChunkMs = Math.max(0, (manyMs - oneMs) / Math.max(1, chunks - 1));
      const share = perChunkMs / (SHIPPED_CHUNK_S * 1000);
      return {
        metric: `resume cost per call, share of a ${SHIPPED_CHUNK_S} s chunk (${chunks} calls of ${shortChunkMs} ms: ${manyMs.toFixed(0)} ms, one call: ${oneMs.toFixed(0)} ms; median of ${runs})`,
        value: `${perChunkMs.toFixed(0)} ms`,
        baseline: `${(share * 100).toFixed(3)} % of ${SHIPPED_CHUNK_S} s`,
        ratio: share,
        ok: share <= 0.01,
      };
    };
    const bench = `warm-up ${rows.toLocaleString('en')} rows, resumed`;
    const paused = resumeRow(SHIPPED_CHUNK_S * 1000 * 0.01);
    return [
      { bench, ...resumeRow(0), target: '≤ 1 % (a Lambda loop loses nothing to one long reader)' },
      {
        bench: `${bench}, self-test`,
        ...paused,
        metric: `the same reads with a pause of 1 % of a chunk in every call: ${paused.metric}`,
        target: '> 1 % (must go red)',
        ok: !paused.ok,
      },
    ];
  } finally {
    await server.stop();
  }
};
