import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import rdsEvent from '../../../events/drill/rds-restore-complete.json' with { type: 'json' };
import startInput from '../../../events/drill/start.json' with { type: 'json' };
import selectEvent from '../../../events/drill/task-select.json' with { type: 'json' };
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { drillTargetId } from '../../../shared/drill/ids.js';
import { StaleTaskTokenError } from '../../../shared/drill/ports.js';
import { drillReport } from '../../../shared/drill/report.js';
import type { DrillState, DrillTaskEvent } from '../../../shared/drill/state.js';
import { CostCeilingError } from '../../../shared/drill/ceiling.js';
import { onRdsEvent } from '../../../shared/drill/restore-events.js';
import {
  type DrillDeps,
  RestoreFailedError,
  runDrillTask,
  type VerifyDeps,
  type VerifyFn,
} from '../../../shared/drill/tasks.js';
import { runVerifyTask } from '../../../shared/drill/verify-tasks.js';
import type { VerificationReport } from '../../../shared/drill/verification.js';
import type { WarmupOptions, WarmupProgress } from '../../../shared/drill/warmup-progress.js';
import {
  ConfigError,
  EventShapeError,
  GuardRefusedError,
  PartialFailureError,
} from '../../../shared/errors.js';
import type { Snapshot } from '../../../shared/model.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { s3ConsoleUrl } from '../../../shared/notify/run-report.js';
import { metrics } from '../../../shared/observability.js';
import {
  FAKE_REPORT_BUCKET,
  fakeCredentials,
  fakeReportStore,
  fakeRestorePort,
  fakeTaskSignal,
  fakeTokenStore,
} from '../../fakes/drill-ports.js';
import { expectBoundedSummary } from '../../support/bounded.js';

const REGION = 'eu-west-1';
const DRILL = selectEvent.execution.name;
const TARGET = drillTargetId('orders-db', DRILL);
const MASTER_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-0a1b2c3d-AbCdEf';
const LEDGER_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:ledger-master-AbCdEf';
const PASSWORD = 'S3cr3t"p@ss\\word';
const TOKEN = 'AQCEAAAAKgAAAAMAAAAA-token-of-wait-for-restore';
const IAM_TOKEN = 'orders-db.example:5432/?Action=connect&DBUser=steward_verifier&X-Amz-Signature=abc';

const configInput = {
  stage: 'prod',
  region: REGION,
  drill: {
    enabled: true,
    targets: {
      'orders-db': {
        snapshot: { randomWithinDays: 7 },
        profile: { database: 'app', tables: [{ name: 'orders', freshnessColumn: 'created_at' }] },
        rpoSeconds: 86_400,
        auth: 'secret',
      },
      ledger: {
        kind: 'aurora-cluster',
        profile: { database: 'ledger' },
        auth: 'secret',
        secretArn: LEDGER_SECRET,
        restore: { instanceClass: 'db.r6g.large' },
        rtoSeconds: 7200,
      },
    },
  },
} satisfies StewardConfigInput;

/** The same stage with orders-db on the default login, IAM database authentication. */
const iamConfig = {
  ...configInput,
  drill: {
    ...configInput.drill,
    targets: {
      ...configInput.drill.targets,
      'orders-db': { ...configInput.drill.targets['orders-db'], auth: 'iam' },
    },
  },
} satisfies StewardConfigInput;

const snap = (id: string, createdAt: string, over: Partial<Snapshot> = {}): Snapshot => ({
  kind: 'rds-instance',
  id,
  arn: `arn:aws:rds:${REGION}:111122223333:snapshot:${id}`,
  region: REGION,
  sourceId: 'orders-db',
  createdAt,
  status: 'available',
  type: 'manual',
  tags: {},
  ...over,
});

const report = (over: Partial<VerificationReport> = {}): VerificationReport => ({
  passed: true,
  outcome: 'passed',
  budgetMs: 600_000,
  host: `${TARGET}.abc123.${REGION}.rds.amazonaws.com`,
  port: 5432,
  database: 'app',
  user: 'steward_master',
  referenceTime: '2026-01-31T03:05:00.000Z',
  checks: [
    {
      name: 'connect',
      kind: 'connect',
      passed: true,
      status: 'passed',
      measured: 'PostgreSQL 16.4',
      expected: 'select 1 returns 1',
      detail: 'connected',
      ms: 40,
    },
  ],
  dataRpoSeconds: 42,
  newestRowTime: '2026-01-31T03:04:18.000Z',
  verifyMs: 30_000,
  tables: { orders: { rows: 1200 } },
  ...over,
});

let clock: Date;
const at = (iso: string) => {
  clock = new Date(iso);
};

const fakeDeps = (verify: VerifyFn = async () => report()) => {
  const restore = fakeRestorePort(REGION);
  restore.snapshots = [
    snap('rds:orders-db-2026-01-31-03-05', '2026-01-31T03:05:00.000Z', { type: 'automated' }),
    snap('steward-orders-db-202601300300-sched', '2026-01-30T03:00:00.000Z'),
    snap('steward-orders-db-202601010300-sched', '2026-01-01T03:00:00.000Z'),
  ];
  restore.secrets = { 'orders-db': MASTER_SECRET };
  const credentials = fakeCredentials({
    [MASTER_SECRET]: {
      username: 'steward_master',
      password: PASSWORD,
      host: 'orders-db.abc123.rds.amazonaws.com',
    },
    [LEDGER_SECRET]: { username: 'ledger_admin', password: PASSWORD },
    // IAM login: the "password" stands for the token the verifier signs.
    'iam:steward_verifier': { username: 'steward_verifier', password: IAM_TOKEN },
  });
  const tokens = fakeTokenStore();
  const signal = fakeTaskSignal();
  const reports = fakeReportStore();
  const notifier = memoryNotifier();
  const verifySpy = vi.fn(verify);
  const deps: DrillDeps & VerifyDeps = {
    config: parseConfig(configInput, 'test'),
    dryRun: false,
    notifier,
    now: () => clock,
    restore,
    credentials,
    tokens,
    signal,
    reports,
    network: { dbSubnetGroupName: 'steward-drill', securityGroupIds: ['sg-0abc1234'] },
    verify: verifySpy,
    warmUp: () => Promise.reject(new Error('this test gives no warm-up engine')),
    ssl: false,
  };
  return { deps, restore, credentials, tokens, signal, reports, notifier, verifySpy };
};

const task = (t: DrillTaskEvent['task'], state: unknown, extra: Partial<DrillTaskEvent> = {}) =>
  ({ task: t, state, execution: selectEvent.execution, ...extra }) as DrillTaskEvent;

/** Run the state machine's happy path up to (and including) `until`. */
const driveTo = async (
  f: ReturnType<typeof fakeDeps>,
  until: 'select' | 'restore' | 'available' | 'verify',
) => {
  at('2026-02-01T05:00:05.000Z');
  let s = await runDrillTask(task('select', selectEvent.state), f.deps);
  if (until === 'select') return s;
  at('2026-02-01T05:00:10.000Z');
  s = await runDrillTask(task('restore', s), f.deps);
  if (until === 'restore') return s;
  f.restore.setStatus(TARGET, 'available');
  at('2026-02-01T05:09:41.000Z');
  s = await runDrillTask(task('status', s), f.deps);
  if (until === 'available') return s;
  at('2026-02-01T05:10:30.000Z');
  return runVerifyTask(task('verify', s), f.deps);
};

let singleMetric: MockInstance<typeof metrics.singleMetric>;
let emitted: { name: string; value: number; dims: Record<string, string> }[];
beforeEach(() => {
  at('2026-02-01T05:00:04.000Z');
  emitted = [];
  singleMetric = vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dims: Record<string, string> = {};
    return {
      addDimension: (k: string, v: string) => void (dims[k] = v),
      addMetric: (name: string, _unit: unknown, value: number) => void emitted.push({ name, value, dims }),
    } as unknown as ReturnType<typeof metrics.singleMetric>;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('start', () => {
  it('turns the execution input into the first drill state', async () => {
    // Act
    const s = await runDrillTask(task('start', startInput), fakeDeps().deps);

    // Assert
    expect(s).toEqual(selectEvent.state);
  });

  it.each([
    ['the input', { rtoSeconds: 900 }, { rtoSeconds: 900, rpoSeconds: 86_400 }],
    ['the target, then the drill defaults', {}, { rtoSeconds: 3600, rpoSeconds: 86_400 }],
  ])('takes RTO/RPO targets from %s', async (_t, over, targets) => {
    const s = await runDrillTask(task('start', { ...startInput, ...over }), fakeDeps().deps);
    expect(s.targets).toEqual(targets);
  });

  it('names a drill without an execution after the database and the time', async () => {
    const s = await runDrillTask({ task: 'start', state: { database: 'ledger' } }, fakeDeps().deps);
    expect(s).toMatchObject({
      drillId: 'ledger-20260201T050004Z',
      startedAt: '2026-02-01T05:00:04.000Z',
      kind: 'aurora-cluster',
      targets: { rtoSeconds: 7200, rpoSeconds: 300 },
    });
  });

  it('rejects an unknown database, naming the known ones', async () => {
    const err = await runDrillTask(task('start', { database: 'nope' }), fakeDeps().deps).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EventShapeError);
    expect((err as Error).message).toMatch(
      /database: "nope" is not in drill.targets .*known: orders-db, ledger/,
    );
  });

  it('rejects malformed input naming the field', async () => {
    await expect(runDrillTask(task('start', { snapshot: 'latest' }), fakeDeps().deps)).rejects.toThrow(
      /Invalid drill input: database/,
    );
  });
});

describe('select', () => {
  it('picks an available snapshot of the last N days, the same one on a retry', async () => {
    // Prepare
    const f = fakeDeps();

    // Act
    const first = await driveTo(f, 'select');
    const again = await driveTo(f, 'select');

    // Assert
    expect(['rds:orders-db-2026-01-31-03-05', 'steward-orders-db-202601300300-sched']).toContain(
      first.source?.snapshotId,
    );
    expect(again.source).toEqual(first.source);
  });

  it('restores a point in time given in the input when it is inside the window', async () => {
    // Prepare
    const f = fakeDeps();
    f.restore.window = { earliest: '2026-01-25T00:00:00.000Z', latest: '2026-02-01T04:55:00.000Z' };
    const state = {
      ...selectEvent.state,
      input: { database: 'orders-db', snapshot: { pointInTime: '2026-01-31T12:00:00Z' } },
    };

    // Act
    const s = await runDrillTask(task('select', state), f.deps);

    // Assert
    expect(s.source).toEqual({
      pointInTime: '2026-01-31T12:00:00.000Z',
      referenceTime: '2026-01-31T12:00:00.000Z',
    });
  });

  it('rejects a state without the fields the task needs, naming them', async () => {
    const { drillId: _omit, ...broken } = selectEvent.state;
    await expect(runDrillTask(task('select', broken), fakeDeps().deps)).rejects.toThrow(
      /Invalid drill state for task select: state.drillId/,
    );
  });
});

describe('restore', () => {
  it('requests an isolated, tagged copy under a deterministic id and remembers which secret opens it', async () => {
    // Prepare
    const f = fakeDeps();
    f.restore.sources['orders-db'] = { instanceClass: 'db.r6g.xlarge', storageType: 'gp3', allocatedGb: 500 };

    // Act
    const s = await driveTo(f, 'restore');

    // Assert
    expect(s.target).toEqual({
      kind: 'rds-instance',
      id: TARGET,
      status: 'creating',
      requestedAt: '2026-02-01T05:00:10.000Z',
      secretArn: MASTER_SECRET,
    });
    expect(f.restore.requests).toEqual([
      {
        kind: 'rds-instance',
        sourceDbId: 'orders-db',
        source: s.source,
        targetId: TARGET,
        tags: {
          'steward:drill': DRILL,
          'steward:managed': 'true',
          'steward:source': 'orders-db',
          'steward:created-by': 'drill',
        },
        // The source's class by default: restore and warm-up take what a real recovery would.
        instanceClass: 'db.r6g.xlarge',
        network: { dbSubnetGroupName: 'steward-drill', securityGroupIds: ['sg-0abc1234'] },
      },
    ]);
    expect(s.shape).toEqual({
      kind: 'rds-instance',
      instanceClass: 'db.r6g.xlarge',
      instanceClassFrom: 'source',
      sourceInstanceClass: 'db.r6g.xlarge',
      instances: 1,
      storageType: 'gp3',
      allocatedGb: 500,
    });
  });

  it('with auth: iam (the default), restores with IAM authentication on and remembers the role, reading no secret', async () => {
    // Prepare
    const f = fakeDeps();
    f.deps.config = parseConfig(iamConfig, 'test');

    // Act
    const s = await driveTo(f, 'restore');

    // Assert
    expect(s.target).toEqual({
      kind: 'rds-instance',
      id: TARGET,
      status: 'creating',
      requestedAt: '2026-02-01T05:00:10.000Z',
      iamUser: 'steward_verifier',
    });
    expect(f.restore.requests.map((r) => r.iamAuth)).toEqual([true]);
    expect(f.credentials.reads).toEqual([]);
  });

  it('refuses to restore when no secret could open the copy', async () => {
    // Prepare
    const f = fakeDeps();
    f.restore.secrets = {};
    const s = await driveTo(f, 'select');

    // Act + Assert
    await expect(runDrillTask(task('restore', s), f.deps)).rejects.toThrow(ConfigError);
    expect(f.restore.requests).toEqual([]);
  });
});

describe('await', () => {
  it('resumes at once when the copy is already available, with where to connect', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    f.restore.setStatus(TARGET, 'available');

    // Act
    const next = await runDrillTask(task('await', s, { taskToken: TOKEN }), f.deps);

    // Assert
    expect(f.signal.calls).toEqual([{ kind: 'success', token: TOKEN, output: next }]);
    expect(next).toMatchObject({
      available: true,
      timedOut: false,
      target: {
        status: 'available',
        availableAt: '2026-02-01T05:00:10.000Z',
        endpoint: { host: `${TARGET}.abc123.${REGION}.rds.amazonaws.com`, port: 5432 },
      },
    });
    expect(f.tokens.parked.size).toBe(0);
  });

  it('parks the token with the state until the RDS event, for a little longer than the poll interval', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');

    // Act
    await runDrillTask(task('await', s, { taskToken: TOKEN }), f.deps);

    // Assert
    expect(f.signal.calls).toEqual([]);
    expect(f.tokens.parked.get(TARGET)).toMatchObject({
      token: TOKEN,
      ttlSeconds: 600,
      state: { target: { id: TARGET } },
    });
  });

  it('fails the task when the restore failed', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    f.restore.setStatus(TARGET, 'incompatible-restore');

    // Act
    await runDrillTask(task('await', s, { taskToken: TOKEN }), f.deps);

    // Assert
    expect(f.signal.calls).toEqual([
      {
        kind: 'failure',
        token: TOKEN,
        error: 'RestoreFailed',
        cause: `restore of rds-instance ${TARGET} failed: status incompatible-restore`,
      },
    ]);
    expect(f.tokens.parked.size).toBe(0);
  });

  it('needs a task token', async () => {
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    await expect(runDrillTask(task('await', s), f.deps)).rejects.toThrow(/taskToken: required/);
  });
});

describe('status (polling fallback)', () => {
  it('reports not yet available, with both Choice flags set', async () => {
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    at('2026-02-01T05:05:10.000Z');
    const next = await runDrillTask(task('status', s), f.deps);
    expect(next).toMatchObject({ available: false, timedOut: false, target: { status: 'creating' } });
    expect(next.error).toBeUndefined();
  });

  it('times the drill out after drill.timeoutSeconds, with an error for Record', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    at('2026-02-01T08:00:04.000Z');

    // Act
    const next = await runDrillTask(task('status', s), f.deps);

    // Assert
    expect(next).toMatchObject({
      available: false,
      timedOut: true,
      error: {
        Error: 'DrillTimeout',
        Cause: `restore of ${TARGET} not available after 10800 s (status creating; drill.timeoutSeconds is 10800)`,
      },
    });
  });

  it('throws when the restore failed', async () => {
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    f.restore.setStatus(TARGET, 'failed');
    await expect(runDrillTask(task('status', s), f.deps)).rejects.toThrow(RestoreFailedError);
  });
});

describe('verify', () => {
  it('connects to the restored copy (not the source) with the master credentials, over TLS as configured', async () => {
    // Prepare
    const f = fakeDeps();

    // Act
    const s = await driveTo(f, 'verify');

    // Assert
    expect(f.credentials.reads).toEqual([MASTER_SECRET]);
    expect(f.verifySpy).toHaveBeenCalledWith(
      {
        host: `${TARGET}.abc123.${REGION}.rds.amazonaws.com`,
        port: 5432,
        user: 'steward_master',
        password: PASSWORD,
        ssl: false,
      },
      expect.objectContaining({ database: 'app' }),
      expect.objectContaining({ referenceTime: new Date(s.source!.referenceTime) }),
    );
    expect(s).toMatchObject({
      verifyStartedAt: '2026-02-01T05:10:30.000Z',
      verifiedAt: '2026-02-01T05:10:30.000Z',
      verification: { passed: true },
    });
  });

  it('with auth: iam, logs in as the role with a token signed for the copy (not the source), and never keeps the token', async () => {
    // Prepare
    const leaky: VerifyFn = async (conn) =>
      report({ checks: [{ ...report().checks[0]!, detail: `login with ${conn.password} ok` }] });
    const f = fakeDeps(leaky);
    f.deps.config = parseConfig(iamConfig, 'test');

    // Act
    const s = await driveTo(f, 'verify');

    // Assert
    const endpoint = { host: `${TARGET}.abc123.${REGION}.rds.amazonaws.com`, port: 5432 };
    expect(f.credentials.reads).toEqual([`iam:steward_verifier@${endpoint.host}:${endpoint.port}`]);
    expect(f.verifySpy).toHaveBeenCalledWith(
      { ...endpoint, user: 'steward_verifier', password: IAM_TOKEN, ssl: false },
      expect.anything(),
      expect.anything(),
    );
    expect(JSON.stringify(s)).not.toContain(IAM_TOKEN);
  });

  it('never lets the password into the returned state, even when the engine echoes it', async () => {
    // Prepare
    const leaky: VerifyFn = async (conn) =>
      report({ checks: [{ ...report().checks[0]!, detail: `login with ${conn.password} ok` }] });
    const f = fakeDeps(leaky);

    // Act
    const s = await driveTo(f, 'verify');

    // Assert
    const json = JSON.stringify(s);
    expect(json).not.toContain(PASSWORD);
    expect(json).not.toContain(JSON.stringify(PASSWORD).slice(1, -1));
    expect(s.verification!.checks[0]!.detail).toBe('login with *** ok');
  });

  it('defaults to verified TLS', async () => {
    const f = fakeDeps();
    const { ssl: _drop, ...deps } = f.deps;
    const s = await driveTo(f, 'available');
    await runVerifyTask(task('verify', s), deps);
    expect(f.verifySpy.mock.calls[0]![0].ssl).toEqual({ rejectUnauthorized: true });
  });

  it('needs an endpoint', async () => {
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    await expect(runVerifyTask(task('verify', s), f.deps)).rejects.toThrow(/state.target.endpoint: required/);
  });
});

describe('cleanup', () => {
  it('deletes the restored copy', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await driveTo(f, 'verify');
    at('2026-02-01T05:10:31.000Z');

    // Act
    const next = await runDrillTask(task('cleanup', s), f.deps);

    // Assert
    expect(next.cleanup).toEqual({
      status: 'deleted',
      at: '2026-02-01T05:10:31.000Z',
      detail: `rds-instance ${TARGET}`,
    });
    expect(f.restore.removed).toEqual([TARGET]);
  });

  it('skips when start failed and the state is still the raw input', async () => {
    const f = fakeDeps();
    const raw = { database: 'nope', error: { Error: 'EventShapeError', Cause: '...' } };
    const next = await runDrillTask(task('cleanup', raw), f.deps);
    expect(next).toMatchObject({ ...raw, cleanup: { status: 'skipped', detail: 'nothing was restored' } });
  });

  it('finds a copy by its deterministic id when restore failed before recording it', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    const { target: _lost, ...partial } = s;

    // Act
    const next = await runDrillTask(
      task('cleanup', { ...partial, error: { Error: 'States.Timeout' } }),
      f.deps,
    );

    // Assert
    expect(next.cleanup?.status).toBe('deleted');
    expect(f.restore.removed).toEqual([TARGET]);
  });

  it('throws when deletion fails, so the state machine retries', async () => {
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    f.restore.failRemove.set(TARGET, new GuardRefusedError('nope'));
    await expect(runDrillTask(task('cleanup', s), f.deps)).rejects.toThrow(GuardRefusedError);
  });
});

describe('record', () => {
  const cleaned = async (f: ReturnType<typeof fakeDeps>) => {
    const s = await driveTo(f, 'verify');
    return runDrillTask(task('cleanup', s), f.deps);
  };

  it('a drill of 5000 tables, every one failing: the message is a bounded summary, the report has them all', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await cleaned(f);
    const checks = Array.from({ length: 5000 }, (_, i) => ({
      name: `row count public.ledger_entries_partition_${String(i).padStart(4, '0')}`,
      kind: 'row-count' as const,
      passed: false,
      status: 'failed' as const,
      measured: i,
      expected: i + 1000,
      detail: `fewer rows than the last passed drill: ${'the restored copy misses recent writes. '.repeat(8)}`,
      ms: 12,
    }));
    const many = { ...s, verification: { ...s.verification!, passed: false, checks } };
    // Act
    const next = await runDrillTask(task('record', many), f.deps).catch((e: unknown) => e);
    // Assert
    expect(next).not.toBeInstanceOf(Error);
    const body = expectBoundedSummary(f.notifier.sent[0]!);
    expect(body).toContain('Checks: 0/5000 passed');
    expect(body).toContain('  ✗ row count public.ledger_entries_partition_0000: 0 (expected 1000)');
    expect(body).toContain('... and 4975 more checks (in the full report)');
    const key = `drills/orders-db/2026/02/${DRILL}.json`;
    expect(body).toContain(`Full report: s3://${FAKE_REPORT_BUCKET}/${key}`);
    const doc = JSON.parse(f.reports.objects.get(key)!) as { verification: { checks: unknown[] } };
    expect(doc.verification.checks).toHaveLength(5000);
  });

  it('records a passed drill: info notification, metrics per database, JSON report', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await cleaned(f);

    // Act
    const next = await runDrillTask(task('record', s), f.deps);

    // Assert
    const key = `drills/orders-db/2026/02/${DRILL}.json`;
    expect(next.result).toMatchObject({ passed: true, reportKey: key });
    expect(next.result!.metrics).toMatchObject({
      rtoSeconds: 626.488,
      rpoSeconds: 42,
      rtoMet: true,
      rpoMet: true,
    });
    const db = { Database: 'orders-db' };
    expect(emitted).toEqual([
      { name: 'DrillPassed', value: 1, dims: db },
      { name: 'DrillInconclusive', value: 0, dims: db },
      { name: 'DrillRtoSeconds', value: 626.488, dims: db },
      { name: 'DrillRpoSeconds', value: 42, dims: db },
      // Available 05:09:41 to deleted 05:20:30 (the delete at 05:10:30, and 10 min to go), at the list price.
      { name: 'DrillInstanceHours', value: 0.1803, dims: db },
      { name: 'DrillCostUsd', value: 0, dims: db },
    ]);
    expect(singleMetric).toHaveBeenCalledTimes(6);
    expect(JSON.parse(f.reports.objects.get(key)!)).toMatchObject({
      type: 'steward-drill-report',
      drillId: DRILL,
      passed: true,
      target: { id: TARGET },
      cleanup: { status: 'deleted' },
    });
    expect(f.notifier.sent).toHaveLength(1);
    expect(f.notifier.sent[0]).toMatchObject({
      severity: 'info',
      capability: 'drill',
      subject: 'Drill passed: orders-db',
    });
    expect(f.notifier.sent[0]!.lines.join('\n')).toContain('DR drill PASSED: orders-db');
    // Linked the way every run report is: the S3 URI and the console page.
    expect(f.notifier.sent[0]!.lines).toContain(`Full report: s3://${FAKE_REPORT_BUCKET}/${key}`);
    expect(f.notifier.sent[0]!.links).toContainEqual({
      text: 'Full report',
      href: s3ConsoleUrl(FAKE_REPORT_BUCKET, 'eu-west-1', key),
    });
    expect(JSON.stringify(next)).not.toContain(PASSWORD);
    expect(f.reports.objects.get(key)).not.toContain(PASSWORD);
  });

  it('records failed checks as a critical failure', async () => {
    const f = fakeDeps(async () => report({ passed: false, outcome: 'failed' }));
    const next = await runDrillTask(task('record', await cleaned(f)), f.deps);
    expect(next.result).toMatchObject({
      passed: false,
      summary: expect.stringContaining('verification checks failed'),
    });
    expect(next.result!.failedStep).toBeUndefined();
    expect(f.notifier.sent[0]!.severity).toBe('critical');
    expect(emitted[0]).toEqual({ name: 'DrillPassed', value: 0, dims: { Database: 'orders-db' } });
  });

  it('records a drill that failed at a step: critical, the step named, no RTO/RPO metrics', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await driveTo(f, 'available');
    const failed = {
      ...s,
      error: {
        Error: 'AwsCallError',
        Cause: JSON.stringify({
          errorType: 'AwsCallError',
          errorMessage: 'GetSecretValue failed for secret x: AccessDenied',
        }),
      },
    };
    const c = await runDrillTask(task('cleanup', failed), f.deps);

    // Act
    const next = await runDrillTask(task('record', c), f.deps);

    // Assert
    expect(next.result).toMatchObject({
      passed: false,
      failedStep: 'verify',
      summary:
        'DR drill FAILED for orders-db at verify: verify failed: AwsCallError: GetSecretValue failed for secret x: AccessDenied',
    });
    expect(emitted.map((m) => m.name)).toEqual([
      'DrillPassed',
      'DrillInconclusive',
      'DrillInstanceHours',
      'DrillCostUsd',
    ]);
    expect(f.notifier.sent[0]).toMatchObject({
      severity: 'critical',
      subject: 'Drill FAILED: orders-db at verify',
    });
  });

  it.each([
    ['the Task state timed out', { Error: 'States.Timeout' }],
    [
      'the Lambda function timed out',
      {
        Error: 'Sandbox.Timedout',
        Cause: JSON.stringify({
          errorType: 'Sandbox.Timedout',
          errorMessage: 'RequestId: 1 Error: Task timed out after 900.00 seconds',
        }),
      },
    ],
  ])('records a verification that ran out of time (%s) as inconclusive, not failed', async (_why, error) => {
    // Prepare: the copy was available; the verifier never returned.
    const f = fakeDeps();
    const s = await driveTo(f, 'available');
    const c = await runDrillTask(task('cleanup', { ...s, error }), f.deps);

    // Act
    const next = await runDrillTask(task('record', c), f.deps);

    // Assert: nothing is known to be wrong with the backup; the evidence is missing.
    expect(next.result).toMatchObject({ passed: false, outcome: 'inconclusive' });
    expect(next.result!.failedStep).toBeUndefined();
    expect(next.result!.summary).toMatch(
      new RegExp(
        `^DR drill INCONCLUSIVE for orders-db: verification not finished within the verifier's time \\(${error.Error.replace('.', '\\.')}`,
      ),
    );
    expect(f.notifier.sent[0]).toMatchObject({
      severity: 'warning',
      subject: 'Drill inconclusive: orders-db',
    });
  });

  it('still fails a restore step that timed out: only verification running out of time is inconclusive', async () => {
    const f = fakeDeps();
    const s = await driveTo(f, 'select');
    const c = await runDrillTask(task('cleanup', { ...s, error: { Error: 'States.Timeout' } }), f.deps);
    const next = await runDrillTask(task('record', c), f.deps);
    expect(next.result).toMatchObject({ passed: false, outcome: 'failed', failedStep: 'restore' });
  });

  it('records a drill whose start failed, from the raw input', async () => {
    const f = fakeDeps();
    const raw = {
      database: 'orders-db',
      cleanup: { status: 'skipped', at: '2026-02-01T05:00:05.000Z' },
      error: { Error: 'EventShapeError' },
    };
    const next = await runDrillTask(task('record', raw), f.deps);
    expect(next.result).toMatchObject({ passed: false, failedStep: 'start' });
    expect(f.reports.objects.has(`drills/orders-db/2026/02/${DRILL}.json`)).toBe(true);
  });

  it('warns when a passed drill could not clean up', async () => {
    const f = fakeDeps();
    const s = await driveTo(f, 'verify');
    const next = await runDrillTask(
      task('record', { ...s, cleanupError: { Error: 'AwsCallError', Cause: 'DeleteDBInstance failed' } }),
      f.deps,
    );
    expect(next.result!.passed).toBe(true);
    expect(f.notifier.sent[0]!.severity).toBe('warning');
    expect(f.notifier.sent[0]!.lines.join('\n')).toMatch(
      /Cleanup FAILED.*janitor deletes steward:drill resources older than 6 h/,
    );
  });

  it('still notifies when the report cannot be stored, says so instead of a link, then throws', async () => {
    // Prepare
    const f = fakeDeps();
    f.reports.fail = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    const s = await cleaned(f);
    // Act
    await expect(runDrillTask(task('record', s), f.deps)).rejects.toThrow(PartialFailureError);
    // Assert
    expect(f.notifier.sent).toHaveLength(1);
    const sent = f.notifier.sent[0]!;
    expect(sent.lines).toContain('Full report unavailable: AccessDenied: Access Denied');
    expect(sent.lines.join('\n')).not.toContain('s3://');
    expect(sent.links ?? []).not.toContainEqual(expect.objectContaining({ text: 'Full report' }));
    // A passed drill whose report is lost is not quiet news.
    expect(sent.severity).toBe('warning');
  });

  it('builds the same report document the CLI prints', async () => {
    const f = fakeDeps();
    const next = await runDrillTask(task('record', await cleaned(f)), f.deps);
    expect(drillReport(next)).toEqual(JSON.parse(f.reports.objects.get(next.result!.reportKey!)!));
  });
});

describe('onRdsEvent', () => {
  const parkedDrill = async () => {
    const f = fakeDeps();
    const s = await driveTo(f, 'restore');
    await runDrillTask(task('await', s, { taskToken: TOKEN }), f.deps);
    return f;
  };

  it('resumes the waiting execution with the parked state once the copy is available', async () => {
    // Prepare
    const f = await parkedDrill();
    f.restore.setStatus(TARGET, 'available');
    at('2026-02-01T05:09:42.000Z');

    // Act
    const out = await onRdsEvent(rdsEvent, f.deps);

    // Assert
    expect(out).toEqual({ outcome: 'resumed', targetId: TARGET, status: 'available' });
    expect(f.signal.calls).toHaveLength(1);
    expect(f.signal.calls[0]).toMatchObject({
      kind: 'success',
      token: TOKEN,
      output: {
        drillId: DRILL,
        available: true,
        target: { availableAt: '2026-02-01T05:09:42.000Z', endpoint: { port: 5432 } },
      },
    });
    expect(f.tokens.parked.size).toBe(0);
  });

  it('resumes it when the event names the copy as AWS documents it, `rds:<id>`', async () => {
    // Prepare: the RDS User Guide's DB instance event example names its instance `rds:my-db-instance`.
    const f = await parkedDrill();
    f.restore.setStatus(TARGET, 'available');
    const id = rdsEvent.detail.SourceIdentifier;
    const documented = { ...rdsEvent, detail: { ...rdsEvent.detail, SourceIdentifier: `rds:${id}` } };

    // Act
    const out = await onRdsEvent(documented, f.deps);

    // Assert
    expect(out).toEqual({ outcome: 'resumed', targetId: TARGET, status: 'available' });
  });

  it('leaves the token parked while the copy is not ready yet', async () => {
    const f = await parkedDrill();
    f.restore.setStatus(TARGET, 'backing-up');
    expect(await onRdsEvent(rdsEvent, f.deps)).toMatchObject({ outcome: 'not-ready' });
    expect(f.tokens.parked.has(TARGET)).toBe(true);
  });

  it('fails the waiting execution when the restore failed', async () => {
    const f = await parkedDrill();
    f.restore.setStatus(TARGET, 'incompatible-restore');
    expect(await onRdsEvent(rdsEvent, f.deps)).toMatchObject({ outcome: 'failed' });
    expect(f.signal.calls[0]).toMatchObject({ kind: 'failure', error: 'RestoreFailed' });
  });

  it('reports a stale token (the execution already moved on to polling) without failing', async () => {
    const f = await parkedDrill();
    f.restore.setStatus(TARGET, 'available');
    f.signal.fail = new StaleTaskTokenError('TaskTimedOut');
    expect(await onRdsEvent(rdsEvent, f.deps)).toMatchObject({ outcome: 'stale' });
  });

  it('ignores events about databases that are not drill copies', async () => {
    const f = fakeDeps();
    const other = { ...rdsEvent, detail: { ...rdsEvent.detail, SourceIdentifier: 'orders-db' } };
    expect(await onRdsEvent(other, f.deps)).toEqual({
      outcome: 'ignored',
      sourceId: 'orders-db',
      reason: 'orders-db is not a drill database (ids start with steward-drill-)',
    });
  });

  it('says no-token when nothing is parked (polling will pick it up)', async () => {
    const f = fakeDeps();
    await driveTo(f, 'restore');
    f.restore.setStatus(TARGET, 'available');
    expect(await onRdsEvent(rdsEvent, f.deps)).toMatchObject({ outcome: 'no-token' });
  });
});

describe('the whole drill through the fakes', () => {
  it('passes end to end and leaves nothing behind', async () => {
    const f = fakeDeps();
    let s: DrillState = await runDrillTask(task('start', startInput), f.deps);
    for (const t of ['select', 'restore'] as const) s = await runDrillTask(task(t, s), f.deps);
    await runDrillTask(task('await', s, { taskToken: TOKEN }), f.deps);
    f.restore.setStatus(TARGET, 'available');
    await onRdsEvent(rdsEvent, f.deps);
    s = (f.signal.calls[0] as { output: DrillState }).output;
    s = await runVerifyTask(task('verify', s), f.deps);
    for (const t of ['cleanup', 'record'] as const) s = await runDrillTask(task(t, s), f.deps);
    expect(s.result?.passed).toBe(true);
    expect(f.restore.resources.size).toBe(0);
  });
});

describe('the control plane and the verifier', () => {
  it.each(['verify', 'warmup'] as const)(
    'the control plane refuses %s: only the verifier, inside the VPC, has the engine',
    async (t) => {
      // Prepare
      const f = fakeDeps();
      const s = await driveTo(f, 'available');

      // Act
      const run = runDrillTask(task(t, s), f.deps);

      // Assert
      await expect(run).rejects.toThrow(new RegExp(`task: "${t}" runs in the verifier function`));
      expect(f.verifySpy).not.toHaveBeenCalled();
    },
  );
});

describe('baselines between drills', () => {
  it('a passed drill leaves its measured tables as the next drill baseline, which verify then uses', async () => {
    // Prepare
    const f = fakeDeps();
    const first = await driveTo(f, 'verify');
    await runDrillTask(task('record', await runDrillTask(task('cleanup', first), f.deps)), f.deps);

    // Act
    const second = await driveTo(f, 'verify');

    // Assert: recorded with whose drill and which data time set it
    expect(JSON.parse(f.reports.objects.get('baselines/orders-db.json')!)).toEqual({
      type: 'steward-drill-baseline',
      drillId: DRILL,
      referenceTime: first.source!.referenceTime,
      tables: { orders: { rows: 1200 } },
    });
    expect(second.baseline).toEqual({ orders: { rows: 1200 } });
    expect(f.verifySpy).toHaveBeenLastCalledWith(
      expect.anything(),
      expect.anything(),
      expect.objectContaining({ baseline: { orders: { rows: 1200 } } }),
    );
  });

  it('a failed drill does not lower the bar for the next one', async () => {
    // Prepare
    const f = fakeDeps(async () =>
      report({ passed: false, outcome: 'failed', tables: { orders: { rows: 3 } } }),
    );
    f.reports.objects.set('baselines/orders-db.json', JSON.stringify({ orders: { rows: 1200 } }));
    const s = await driveTo(f, 'verify');

    // Act
    await runDrillTask(task('record', await runDrillTask(task('cleanup', s), f.deps)), f.deps);

    // Assert
    expect(JSON.parse(f.reports.objects.get('baselines/orders-db.json')!)).toEqual({
      orders: { rows: 1200 },
    });
  });

  it('overlapping drills: one of older data that passes last keeps the newer data’s baseline, and says so', async () => {
    // Prepare: an on-demand drill of last week's snapshot overlapped today's scheduled drill, which passed first
    const f = fakeDeps(async () => report({ tables: { orders: { rows: 900 } } }));
    const s = await driveTo(f, 'verify');
    const newer = {
      type: 'steward-drill-baseline',
      drillId: 'scheduled-today',
      referenceTime: new Date(Date.parse(s.source!.referenceTime) + 86_400_000).toISOString(),
      tables: { orders: { rows: 1200 } },
    };
    f.reports.objects.set('baselines/orders-db.json', JSON.stringify(newer));

    // Act
    const next = await runDrillTask(task('record', await runDrillTask(task('cleanup', s), f.deps)), f.deps);

    // Assert: the bar stays the newest data's; the report says whose baseline was kept and why
    expect(next.result!.passed).toBe(true);
    expect(JSON.parse(f.reports.objects.get('baselines/orders-db.json')!)).toEqual(newer);
    expect(next.baselineKept).toBe(
      `kept drill scheduled-today's baseline: its data (${newer.referenceTime}) is newer than this drill's (${s.source!.referenceTime})`,
    );
    const doc = JSON.parse(f.reports.objects.get(next.result!.reportKey!)!) as { baselineKept?: string };
    expect(doc.baselineKept).toBe(next.baselineKept);
  });

  it('reads a baseline written before it recorded its drill (the bare tables)', async () => {
    // Prepare
    const f = fakeDeps();
    f.reports.objects.set('baselines/orders-db.json', JSON.stringify({ orders: { rows: 1200 } }));

    // Act
    const s = await driveTo(f, 'select');

    // Assert
    expect(s.baseline).toEqual({ orders: { rows: 1200 } });
  });

  it('ignores a malformed baseline instead of failing the drill', async () => {
    // Prepare
    const f = fakeDeps();
    f.reports.objects.set('baselines/orders-db.json', '{"orders": {"rows": "many"}}');

    // Act
    const s = await driveTo(f, 'select');

    // Assert
    expect(s.baseline).toBeUndefined();
    expect(s.source).toBeDefined();
  });
});

describe('restore shape, warm-up and cost', () => {
  /** The orders-db target with extra settings (a ceiling, a warm-up target...). */
  const withTarget = (f: ReturnType<typeof fakeDeps>, over: Record<string, unknown>) => {
    const targets = configInput.drill.targets;
    f.deps.config = parseConfig(
      {
        ...configInput,
        drill: {
          ...configInput.drill,
          targets: { ...targets, 'orders-db': { ...targets['orders-db'], ...over } },
        },
      },
      'test',
    );
  };
  const sourced = (f: ReturnType<typeof fakeDeps>) => {
    f.restore.sources['orders-db'] = {
      instanceClass: 'db.r6g.4xlarge',
      storageType: 'gp3',
      allocatedGb: 2000,
    };
  };

  it('refuses to restore at all when the cost ceiling cannot cover the copy’s 10-minute minimum', async () => {
    // Prepare: db.r6g.4xlarge is $1.798/h; 10 min + a 10-minute verification + 10 min to delete > $0.50.
    const f = fakeDeps();
    sourced(f);
    withTarget(f, { costCeilingUsd: 0.5 });
    const s = await driveTo(f, 'select');

    // Act
    const err = await runDrillTask(task('restore', s), f.deps).catch((e: unknown) => e);

    // Assert
    expect(err).toBeInstanceOf(CostCeilingError);
    expect((err as Error).name).toBe('CostCeilingReached');
    expect((err as Error).message).toMatch(
      /^stopped before restoring onto db\.r6g\.4xlarge: going on would cost about \$\d+\.\d\d/,
    );
    expect(f.restore.requests).toEqual([]);
  });

  it('stops waiting for a restore that would run past the ceiling, and records an inconclusive drill (warning)', async () => {
    // Prepare: $1 covers the restore's first hour of storage and its minimum, not 2.5 hours of waiting.
    const f = fakeDeps();
    sourced(f);
    withTarget(f, { costCeilingUsd: 1 });
    const s = await driveTo(f, 'restore');
    f.restore.setStatus(TARGET, 'creating');
    at('2026-02-01T07:30:00.000Z');

    // Act
    const err = await runDrillTask(task('status', s), f.deps).catch((e: unknown) => e);
    const failed = {
      ...s,
      error: { Error: (err as Error).name, Cause: JSON.stringify({ errorMessage: (err as Error).message }) },
    };
    const next = await runDrillTask(
      task('record', await runDrillTask(task('cleanup', failed), f.deps)),
      f.deps,
    );

    // Assert
    expect(err).toBeInstanceOf(CostCeilingError);
    expect(f.restore.removed).toEqual([TARGET]);
    expect(next.result).toMatchObject({ passed: false, outcome: 'inconclusive' });
    expect(next.result!.failedStep).toBeUndefined();
    expect(next.result!.summary).toMatch(
      /^DR drill INCONCLUSIVE for orders-db: drill stopped at await by its cost ceiling: stopped while waiting/,
    );
    expect(f.notifier.sent[0]).toMatchObject({
      severity: 'warning',
      subject: 'Drill inconclusive: orders-db',
    });
    expect(next.cost).toMatchObject({ ceilingUsd: 1, instanceHours: 0, estimate: true });
  });

  it('starts a warm-up after a verification that did not fail, and not after one that did', async () => {
    // Act
    const ok = await driveTo(fakeDeps(), 'verify');
    const bad = await driveTo(
      fakeDeps(async () => report({ passed: false, outcome: 'failed' })),
      'verify',
    );

    // Assert
    expect(ok.warmup).toMatchObject({
      pending: true,
      startedAt: ok.verifiedAt,
      deadlineAt: new Date(Date.parse(ok.verifiedAt!) + 7200_000).toISOString(),
      blocksRead: 0,
    });
    expect(bad.warmup).toBeUndefined();
  });

  it('runs one warm-up chunk with the copy’s credentials, bounded by the chunk and the deadline', async () => {
    // Prepare
    const f = fakeDeps();
    const warmUp = vi.fn(async (_c: unknown, p: WarmupProgress, _o: WarmupOptions) => ({
      ...p,
      chunks: p.chunks + 1,
      blocksRead: 10,
    }));
    f.deps.warmUp = warmUp;
    const s = await driveTo(f, 'verify');
    // 5 minutes before the warm-up deadline: the chunk is cut to them.
    at(new Date(Date.parse(s.warmup!.deadlineAt) - 300_000).toISOString());

    // Act
    const next = await runVerifyTask(task('warmup', s), f.deps);

    // Assert
    expect(warmUp).toHaveBeenCalledTimes(1);
    const [connection, , options] = warmUp.mock.calls[0]!;
    expect(connection).toMatchObject({
      host: `${TARGET}.abc123.${REGION}.rds.amazonaws.com`,
      user: 'steward_master',
    });
    expect(options).toMatchObject({ tables: 'all', parallelism: 4, chunkMs: 300_000, database: 'app' });
    expect(next.warmup).toMatchObject({ pending: true, chunks: 1, blocksRead: 10 });
    expect(JSON.stringify(next)).not.toContain(PASSWORD);
  });

  it('stops the warm-up before a chunk would exceed the cost ceiling, keeping the verification', async () => {
    // Prepare: $2 covers the drill so far, not another 10-minute chunk of db.r6g.4xlarge ($2.17 with it).
    const f = fakeDeps();
    sourced(f);
    withTarget(f, { costCeilingUsd: 2 });
    f.deps.warmUp = vi.fn();
    const s = await driveTo(f, 'verify');
    at('2026-02-01T05:50:00.000Z');

    // Act
    const next = await runVerifyTask(task('warmup', s), f.deps);

    // Assert
    expect(f.deps.warmUp).not.toHaveBeenCalled();
    expect(next.warmup).toMatchObject({
      pending: false,
      complete: false,
      stopped: { reason: 'cost-ceiling' },
    });
    expect(next.verification?.passed).toBe(true);
  });

  it.each([
    [
      'handed over (RDS still creating it)',
      { cleanup: { status: 'handed-over', at: '2026-02-01T07:05:00.000Z' } },
    ],
    ['whose Cleanup failed', { cleanupError: { Error: 'DrillCopyBusy', Cause: 'still modifying' } }],
  ])(
    'states the cost of a copy %s as a lower bound, to the record, its deletion pending',
    async (_t, ended) => {
      // Prepare
      const f = fakeDeps();
      sourced(f);
      const s = await driveTo(f, 'verify');
      at('2026-02-01T07:20:00.000Z');

      // Act
      const next = await runDrillTask(task('record', { ...s, ...ended }), f.deps);

      // Assert: counted to the record at 07:20 (no deletion yet to count to), and said to be at least that
      expect(next.cost).toMatchObject({ instanceHours: 2.1719, lowerBound: true });
      expect(next.cost!.notes).toContain(
        'a lower bound: counted to 2026-02-01T07:20:00.000Z, the copy not yet deleted (its own event or the janitor deletes it)',
      );
      expect(next.result!.summary).toMatch(/, at least ~\$\d+\.\d\d$/);
    },
  );

  it('reports both RTO figures, the shape and the cost; a missed time-to-warm target fails the drill', async () => {
    // Prepare: warm at 07:00, 2 h after the start (05:00:03.512), against a 1 h target.
    const f = fakeDeps();
    sourced(f);
    withTarget(f, { warmup: { rtoSeconds: 3600 } });
    const s = await driveTo(f, 'verify');
    const warmed: DrillState = {
      ...s,
      // `start` takes it from the target (driveTo begins at select).
      targets: { ...s.targets, warmRtoSeconds: 3600 },
      warmup: {
        ...s.warmup!,
        pending: false,
        complete: true,
        finishedAt: '2026-02-01T07:00:00.000Z',
        method: 'pg_prewarm',
        relations: 12,
        blocksTotal: 1000,
        blocksRead: 1000,
        chunks: 11,
      },
    };
    at('2026-02-01T07:05:00.000Z');
    const cleaned = await runDrillTask(task('cleanup', warmed), f.deps);

    // Act
    const next = await runDrillTask(task('record', cleaned), f.deps);
    const doc = drillReport(next);

    // Assert
    expect(doc.metrics!.rtoSeconds).toBe(626.488);
    expect(doc.metrics!.warm).toMatchObject({
      complete: true,
      rtoSeconds: 7196.488,
      targetSeconds: 3600,
      met: false,
      chunks: 11,
    });
    expect(doc).toMatchObject({
      passed: false,
      outcome: 'failed',
      reasons: ['time-to-warm 7196.488 s exceeds the 3600 s target'],
    });
    expect(doc.shape).toMatchObject({
      instanceClass: 'db.r6g.4xlarge',
      instanceClassFrom: 'source',
      allocatedGb: 2000,
    });
    // Available 05:09:41 to the deletion, 10 min after the delete at 07:05 (RDS bills until the copy is gone):
    // 2.09 h of db.r6g.4xlarge, and 2000 GB of gp3 since 05:00:10.
    expect(doc.cost).toMatchObject({ instanceHours: 2.0886, instanceUsdPerHour: 1.798, estimate: true });
    expect(doc.cost!.estimatedUsd).toBeCloseTo(2.0886 * 1.798 + (2000 * 0.115 * 2.2473) / 730, 2);
    expect(doc.cost!.lowerBound).toBeUndefined();
    expect(doc.cost!.notes).toContain(
      'counted to the deletion, taken as 10 min after the delete at 2026-02-01T07:05:00.000Z',
    );
    expect(emitted.map((m) => m.name)).toContain('DrillWarmRtoSeconds');
    expect(f.notifier.sent[0]!.lines.join('\n')).toContain(
      '✗ RTO to warm 1 h 59 min 56 s (target 1 h 00 min 00 s;',
    );
  });
});
