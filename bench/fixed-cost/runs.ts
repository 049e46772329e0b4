import { readFileSync } from 'node:fs';
import { runBackup } from '../../shared/backup/service.js';
import { parseBackupRequest } from '../../shared/backup/events.js';
import type { StewardConfig } from '../../shared/config/schema.js';
import { memoryAlertLedger } from '../../shared/cost/memory-ledger.js';
import { runCostCheck } from '../../shared/cost/service.js';
import type { Database, Snapshot } from '../../shared/model.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { metrics } from '../../shared/observability.js';
import { runReport } from '../../shared/report/service.js';
import { memoryDeletionBudget } from '../../shared/retention/memory-budget.js';
import { runRetention } from '../../shared/retention/service.js';
import { fakeBackupPort, fakeCopyPort } from '../../test/fakes/backup-ports.js';
import { fixedEstate, memoryHistory } from '../../test/fakes/report.js';
import { fakeSnapshotStore } from '../../test/fakes/snapshot-store.js';
import { costExplorerMock } from '../cost.js';

/** One custom metric as CloudWatch bills it: namespace, name and the full dimension set. */
export type MetricId = string;

/** What one real run emitted: the distinct custom metrics and the bytes it logged (EMF lines excluded). */
export interface RunEmission {
  metrics: MetricId[];
  logBytes: number;
  /** Cost Explorer requests, for the cost check. */
  requests?: number;
}

/**
 * Run `f` with the real Powertools emitter writing to a captured stdout, flush what it stored, and read the
 * EMF documents back: every (namespace, metric, dimensions) is one billed custom metric. The `service`
 * dimension is the capability's name as deployed (POWERTOOLS_SERVICE_NAME), not this process's.
 */
export const captureEmission = async (service: string, f: () => Promise<unknown>): Promise<RunEmission> => {
  // Lambda sends both streams to CloudWatch Logs: Powertools writes EMF and logs to stdout, warnings to stderr.
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((s) => s.write.bind(s));
  for (const s of streams)
    s.write = ((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n'));
      return true;
    }) as typeof s.write;
  try {
    await f().catch(() => undefined);
    metrics.publishStoredMetrics();
  } finally {
    streams.forEach((s, i) => (s.write = writes[i]!));
  }
  const ids = new Set<MetricId>();
  let logBytes = 0;
  for (const line of lines.filter((l) => l.trim())) {
    const doc = (() => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    })();
    const aws = doc?._aws as
      | { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }
      | undefined;
    if (!doc || !aws) {
      logBytes += Buffer.byteLength(line) + 1;
      continue;
    }
    for (const d of aws.CloudWatchMetrics) {
      for (const set of d.Dimensions.length ? d.Dimensions : [[]]) {
        const dims = set
          .map((k) => `${k}=${k === 'service' ? service : String(doc[k])}`)
          .sort()
          .join(',');
        for (const m of d.Metrics) ids.add(`${d.Namespace}/${m.Name}{${dims}}`);
      }
    }
  }
  return { metrics: [...ids].sort(), logBytes };
};

const ACCOUNT = '111122223333';
const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString();
const stamp = (t: number) => iso(t).replace(/[-:T]/g, '').slice(0, 12);

/** An estate of `n` databases on the example's policies: 90 % RDS instances (`daily`), 10 % ElastiCache (`cache`). */
export const estateOf = (config: StewardConfig, n: number): Database[] => {
  const policies = Object.entries(config.backup.policies);
  const rdsPolicy = policies.find(([, p]) => p.kinds.includes('rds-instance'))?.[0];
  const cachePolicy = policies.find(([, p]) => p.kinds.includes('elasticache'))?.[0];
  return Array.from({ length: n }, (_, i): Database => {
    const cache = cachePolicy && i % 10 === 9;
    const id = `${cache ? 'cache' : 'db'}-${String(i).padStart(3, '0')}`;
    return {
      kind: cache ? 'elasticache' : 'rds-instance',
      id,
      arn: cache
        ? `arn:aws:elasticache:${config.region}:${ACCOUNT}:replicationgroup:${id}`
        : `arn:aws:rds:${config.region}:${ACCOUNT}:db:${id}`,
      region: config.region,
      engine: cache ? 'redis' : 'postgres',
      ...(cache ? { cacheEngine: 'redis' } : {}),
      status: 'available',
      encrypted: true,
      tags: { 'steward:backup': (cache ? cachePolicy : rdsPolicy) ?? 'daily' },
    };
  });
};

/**
 * Steward's daily snapshots of every database for `days` days, taken at 03:04 UTC (the example's schedule),
 * the newest at or before `now` (the DR region's copies too, an hour later).
 */
const history = (config: StewardConfig, dbs: Database[], now: number, days: number, region: string) =>
  dbs.flatMap((d) =>
    Array.from({ length: days }, (_, k): Snapshot => {
      const lag = region === config.region ? 0 : 3_600_000;
      const today = Math.floor((now - lag) / DAY) * DAY + 3 * 3_600_000 + 4 * 60_000;
      const at = (today + lag <= now ? today : today - DAY) - k * DAY;
      const id = `steward-${d.id}-${stamp(at)}-sched`;
      return {
        kind: d.kind,
        id,
        arn: `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${id}`,
        region,
        sourceId: d.id,
        createdAt: iso(at),
        status: 'available',
        type: 'manual',
        encrypted: true,
        tags: {
          'steward:managed': 'true',
          'steward:source': d.id,
          'steward:created-by': 'backup',
          'steward:policy': d.tags['steward:backup']!,
          'steward:kind': 'sched',
          // A DR copy names its source by ARN, as steward's copies do (shared/backup/copy-plan.ts): a reconcile
          // recognises it by that tag whatever its id.
          ...(region !== config.region
            ? { 'steward:copied-from': `arn:aws:rds:${config.region}:${ACCOUNT}:snapshot:${id}` }
            : {}),
        },
      };
    }),
  );

/** The run a schedule starts, on an estate of `n` databases, as deployed: returns what it emitted. */
export type ScheduledRun = (
  input: Record<string, unknown>,
  at: Date,
  n: number,
) => Promise<RunEmission | undefined>;

/**
 * The real service behind each function a schedule targets, over in-memory ports holding `n` databases
 * in a steady state (a month of daily snapshots, all copied to DR except today's).
 */
export const scheduledRuns = (config: StewardConfig): Record<string, ScheduledRun> => {
  const base = (at: Date) => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => at });
  const dr = config.dr.region;
  return {
    backup: (input, at, n) => {
      const dbs = estateOf(config, n);
      const t = at.getTime();
      // A scheduled backup finds yesterday's snapshots (it takes today's); a reconcile finds today's too.
      const asOf = input.action === 'scheduled-backup' ? t - 3_600_000 : t;
      const primary = fakeSnapshotStore(config.region, history(config, dbs, asOf, 30, config.region));
      const drStore = fakeSnapshotStore(dr ?? 'us-west-2', dr ? history(config, dbs, asOf, 30, dr) : []);
      const event = JSON.parse(JSON.stringify(input).replaceAll('<aws.scheduler.scheduled-time>', iso(t)));
      return captureEmission('backup', () =>
        runBackup(parseBackupRequest(event, config.backup), {
          ...base(at),
          primary: fakeBackupPort(config.region, dbs, [], primary),
          dr: fakeCopyPort(dr ?? 'us-west-2', drStore),
          snapshots: { primary, dr: drStore },
        }),
      );
    },
    retention: (_input, at, n) => {
      const dbs = estateOf(config, n);
      const t = at.getTime();
      // One more daily than the policy keeps: each run expires one snapshot per database.
      const stores = [
        fakeSnapshotStore(config.region, history(config, dbs, t, 32, config.region)),
        ...(dr ? [fakeSnapshotStore(dr, history(config, dbs, t, 32, dr))] : []),
      ];
      return captureEmission('retention', () =>
        runRetention({ ...base(at), stores, budget: memoryDeletionBudget() }),
      );
    },
    report: (input, at, n) => {
      if (input.action !== 'status-check') return Promise.resolve(undefined);
      const dbs = estateOf(config, n);
      const t = at.getTime();
      return captureEmission('report', () =>
        runReport(
          { action: 'status-check' },
          {
            ...base(at),
            estate: {
              config,
              primary: fixedEstate(config.region, dbs, history(config, dbs, t, 30, config.region)),
              dr: fixedEstate(dr ?? 'us-west-2', [], dr ? history(config, dbs, t, 30, dr) : []),
              history: memoryHistory(),
              now: () => at,
            },
          },
        ),
      );
    },
    cost: async (_input, at) => {
      const ce = costExplorerMock();
      try {
        const emission = await captureEmission('cost', () =>
          runCostCheck(
            { source: ce.source(), ledger: memoryAlertLedger(() => at), ...base(at) },
            { scheduledTime: at.toISOString() },
          ),
        );
        return { ...emission, requests: ce.requests() };
      } finally {
        ce.restore();
      }
    },
  };
};

/**
 * Metrics each drill records per database, counted in the drill's record step (shared/drill/tasks.ts):
 * every `emit(s.database, …)` is one metric with the `Database` dimension.
 */
export const drillMetricsPerDatabase = (): string[] => {
  const src = readFileSync(new URL('../../shared/drill/tasks.ts', import.meta.url), 'utf8');
  return [...src.matchAll(/emit\(s\.database, '(\w+)'/g)].map((m) => m[1]!);
};

/** Handlers that add Powertools' ColdStart metric (one more metric, dimensions service + function_name). */
export const coldStartFunctions = (): string[] => {
  const dir = new URL('../../functions/', import.meta.url);
  return ['backup', 'retention', 'drill', 'drill-verify', 'scaling', 'cost', 'report'].filter((f) =>
    /captureColdStartMetric:\s*true/.test(readFileSync(new URL(`${f}/handler.ts`, dir), 'utf8')),
  );
};
