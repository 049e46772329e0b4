import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { selectSet } from '../../../shared/drill/ebs-tasks.js';
import { SnapshotSelectionError } from '../../../shared/drill/select.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { type DrillDeps, runDrillControl, runDrillTask } from '../../../shared/drill/tasks.js';
import { ConfigError, PartialFailureError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { Tag } from '../../../shared/tags.js';
import {
  fakeFastRestoreLedger,
  fakeReportStore,
  fakeRestorePort,
  fakeTaskSignal,
  fakeTokenStore,
} from '../../fakes/drill-ports.js';
import { janitorMaxAgeHours } from '../../../shared/drill/janitor.js';
import { type FakeEbsOptions, ebsSet, fakeEbs } from '../../fakes/ebs-drill-ports.js';
import { type FakeVerifierOptions, fakeVerifier } from '../../fakes/ebs-verifier-ports.js';
import { fakeEndpoints } from '../../fakes/drill-endpoints.js';
import { drillExecutionEnded, drillTasksOf, quietMetricsEachTest } from '../../support/drill-tasks.js';

const REGION = 'eu-west-1';
const INSTANCE = 'i-0abc1234def567890';
const EXECUTION = { name: 'monthly-mongo-20260201-0500', startTime: '2026-02-01T05:00:00.000Z' };

const configInput = {
  stage: 'prod',
  region: REGION,
  drill: { enabled: true, volumes: { [INSTANCE]: { rtoSeconds: 600 } } },
} satisfies StewardConfigInput;

const LATEST = ebsSet(INSTANCE, '2026-02-01T03:00:00.000Z', ['vol-0root', 'vol-0data']);
const sets = () => [
  ebsSet(INSTANCE, '2026-01-31T03:00:00.000Z', ['vol-0root', 'vol-0data']),
  LATEST,
  // Newer, but still being taken / made by AWS Backup: never drilled.
  ebsSet(INSTANCE, '2026-02-01T04:00:00.000Z', ['vol-0root', 'vol-0data'], { status: 'creating' }),
  ebsSet(INSTANCE, '2026-02-01T04:30:00.000Z', ['vol-0root'], { type: 'awsbackup' }),
];

let clock: Date;
const at = (iso: string) => void (clock = new Date(iso));

const fakeDeps = (o: FakeEbsOptions = {}, input: StewardConfigInput = configInput) => {
  const ebs = fakeEbs(sets(), o);
  const notifier = memoryNotifier();
  const reports = fakeReportStore();
  const deps: DrillDeps = {
    config: parseConfig(input, 'test'),
    dryRun: false,
    notifier,
    now: () => clock,
    restore: fakeRestorePort(REGION),
    ebs,
    tokens: fakeTokenStore(),
    signal: fakeTaskSignal(),
    reports,
    network: {},
  };
  return { deps, ebs, notifier, reports };
};

/** A task's input; a Catch of the state machine: the state as the failed task received it, plus `error`. */
const { task, caught } = drillTasksOf(EXECUTION);

beforeEach(() => at('2026-02-01T05:00:00.000Z'));
quietMetricsEachTest();

describe('an EBS drill through the drill tasks', () => {
  it('restores the newest complete set, polls until every volume is available, records RTO and RPO, and deletes the volumes', async () => {
    // Prepare
    const f = fakeDeps({ readyAfterPolls: { [LATEST.parts![1]!.id]: 2 } });

    // Act
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const selected = await runDrillTask(task('select', started), f.deps);
    at('2026-02-01T05:00:02.000Z');
    const restored = await runDrillTask(task('restore', selected), f.deps);
    at('2026-02-01T05:00:17.000Z');
    const first = await runDrillTask(task('status', restored), f.deps);
    at('2026-02-01T05:00:32.000Z');
    const second = await runDrillTask(task('status', first), f.deps);
    at('2026-02-01T05:00:35.000Z');
    const cleaned = await runDrillTask(task('cleanup', second), f.deps);
    const recorded = await runDrillTask(task('record', cleaned), f.deps);

    // Assert
    expect(started).toMatchObject({ kind: 'ebs', targets: { rtoSeconds: 600, rpoSeconds: 90_000 } });
    expect(selected.source).toEqual({
      snapshotId: LATEST.id,
      snapshotArn: LATEST.arn,
      referenceTime: LATEST.createdAt,
    });
    expect(selected.ebs?.settings).toEqual({
      availabilityZone: 'eu-west-1a',
      volumeType: 'gp3',
      fastSnapshotRestore: false,
      timeoutSeconds: 1800,
      pollSeconds: 15,
    });
    expect(f.ebs.log.filter((l) => l.startsWith('create'))).toEqual(
      LATEST.parts!.map((p) => `create ${p.id}`),
    );
    expect(first).toMatchObject({ available: false, timedOut: false });
    expect(second).toMatchObject({ available: true, timedOut: false });
    expect(second.ebs?.volumes.map((v) => [v.state, v.seconds])).toEqual([
      ['available', 15],
      ['available', 30],
    ]);
    expect(f.ebs.live.size).toBe(0);
    expect(cleaned.cleanup).toMatchObject({ status: 'deleted' });
    expect(recorded.result).toMatchObject({ passed: true, outcome: 'passed' });
    expect(recorded.result?.metrics).toMatchObject({
      restoreSeconds: 30,
      rtoSeconds: 32,
      rpoSeconds: 7200,
      rtoMet: true,
      rpoMet: true,
    });
    const report = JSON.parse(f.reports.objects.get(recorded.result!.reportKey!)!) as Record<string, unknown>;
    expect(report).toMatchObject({ kind: 'ebs', database: INSTANCE, passed: true });
    expect((report.ebs as DrillState['ebs'])?.volumes).toHaveLength(2);
    const [message] = f.notifier.sent;
    expect(message?.severity).toBe('info');
    expect(message?.lines.join('\n')).toContain(`Set:       ${LATEST.id}`);
  });

  it('tags each restored volume as the drill’s and restores it in the drill zone with a repeatable client token', async () => {
    // Prepare
    const f = fakeDeps();
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const selected = await runDrillTask(task('select', started), f.deps);

    // Act: a retried restore task
    const once = await runDrillTask(task('restore', selected), f.deps);
    const twice = await runDrillTask(task('restore', selected), f.deps);

    // Assert
    expect(twice.ebs?.volumes.map((v) => v.volumeId)).toEqual(once.ebs?.volumes.map((v) => v.volumeId));
    expect(f.ebs.live.size).toBe(2);
    for (const v of f.ebs.live.values()) {
      expect(v.tags).toMatchObject({
        [Tag.drill]: EXECUTION.name,
        [Tag.managed]: 'true',
        [Tag.createdBy]: 'drill',
        'steward:snapshot-set': LATEST.id,
      });
    }
  });

  it('fails at restore when a create is refused, and cleanup still deletes the volume that was created', async () => {
    // Prepare
    const f = fakeDeps({ failCreate: LATEST.parts![0]!.id });
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const selected = await runDrillTask(task('select', started), f.deps);

    // Act
    const failed = await caught('restore', selected, f.deps);
    const cleaned = await runDrillTask(task('cleanup', failed), f.deps);
    const recorded = await runDrillTask(task('record', cleaned), f.deps);

    // Assert
    expect(failed.error?.Error).toBe('RestoreFailedError');
    expect(f.ebs.live.size).toBe(0);
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(recorded.result).toMatchObject({ passed: false, outcome: 'failed', failedStep: 'restore' });
    expect(recorded.result?.summary).toContain('InvalidSnapshot.NotFound');
    expect(f.notifier.sent[0]?.severity).toBe('critical');
  });

  it('fails when a volume goes to error, and deletes every volume', async () => {
    // Prepare
    const f = fakeDeps({ errorState: LATEST.parts![1]!.id });
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const restored = await runDrillTask(
      task('restore', await runDrillTask(task('select', started), f.deps)),
      f.deps,
    );

    // Act
    const failed = await caught('status', restored, f.deps);
    const recorded = await runDrillTask(
      task('record', await runDrillTask(task('cleanup', failed), f.deps)),
      f.deps,
    );

    // Assert
    expect(failed.error?.Cause).toContain('is error');
    expect(f.ebs.live.size).toBe(0);
    expect(recorded.result).toMatchObject({ passed: false, failedStep: 'await' });
  });

  it('times out after the target’s timeoutSeconds, then cleans up and fails', async () => {
    // Prepare
    const f = fakeDeps({ readyAfterPolls: { [LATEST.parts![0]!.id]: 1000 } });
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const restored = await runDrillTask(
      task('restore', await runDrillTask(task('select', started), f.deps)),
      f.deps,
    );

    // Act
    at('2026-02-01T05:29:00.000Z');
    const inTime = await runDrillTask(task('status', restored), f.deps);
    at('2026-02-01T05:31:00.000Z');
    const late = await runDrillTask(task('status', inTime), f.deps);
    const recorded = await runDrillTask(
      task('record', await runDrillTask(task('cleanup', late), f.deps)),
      f.deps,
    );

    // Assert
    expect(inTime).toMatchObject({ available: false, timedOut: false });
    expect(late).toMatchObject({ available: false, timedOut: true, error: { Error: 'DrillTimeout' } });
    expect(f.ebs.live.size).toBe(0);
    expect(recorded.result).toMatchObject({ passed: false, failedStep: 'await' });
  });

  it('fails the cleanup task (for the state machine to retry) when a delete fails, after trying every volume', async () => {
    // Prepare
    const f = fakeDeps({ failDelete: true });
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const restored = await runDrillTask(
      task('restore', await runDrillTask(task('select', started), f.deps)),
      f.deps,
    );

    // Act
    const cleanup = runDrillTask(task('cleanup', restored), f.deps);

    // Assert
    await expect(cleanup).rejects.toBeInstanceOf(PartialFailureError);
    expect(f.ebs.log.filter((l) => l.startsWith('delete'))).toHaveLength(2);
  });

  it('turns fast snapshot restore on before the creates and off in cleanup', async () => {
    // Prepare
    const f = fakeDeps(
      {},
      {
        ...configInput,
        drill: {
          enabled: true,
          volumes: { [INSTANCE]: { fastSnapshotRestore: true, availabilityZone: 'eu-west-1b' } },
        },
      },
    );
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);

    // Act
    const restored = await runDrillTask(
      task('restore', await runDrillTask(task('select', started), f.deps)),
      f.deps,
    );
    await runDrillTask(task('cleanup', restored), f.deps);

    // Assert
    const snaps = LATEST.parts!.map((p) => p.id).join(',');
    expect(f.ebs.log[0]).toBe(`fsr on ${snaps}`);
    expect(f.ebs.log.at(-1)).toBe(`fsr off ${snaps}`);
    expect(restored.ebs?.settings.availabilityZone).toBe('eu-west-1b');
  });

  it('leaves on the fast snapshot restore someone else turned on for the same snapshots', async () => {
    // Prepare: the first part's was on in the drill's zone before the drill (an operator's, another tool's).
    const [theirs, ...rest] = LATEST.parts!.map((p) => p.id);
    const fsrConfig = {
      ...configInput,
      drill: {
        enabled: true,
        volumes: { [INSTANCE]: { fastSnapshotRestore: true, availabilityZone: 'eu-west-1b' } },
      },
    };
    const f = fakeDeps({ fastRestoreOn: [`${theirs}@eu-west-1b`] }, fsrConfig);
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);

    // Act
    const restored = await runDrillTask(
      task('restore', await runDrillTask(task('select', started), f.deps)),
      f.deps,
    );
    await runDrillTask(task('cleanup', restored), f.deps);

    // Assert: only what the drill turned on is turned off; its volumes record which.
    expect(restored.ebs?.fastRestored).toEqual(rest);
    expect(f.ebs.log.filter((l) => l.startsWith('fsr'))).toEqual([
      `fsr on ${rest.join(',')}`,
      `fsr off ${rest.join(',')}`,
    ]);

    // And an execution that ended outside the drill: the same, from its volumes' record.
    const g = fakeDeps({ fastRestoreOn: [`${theirs}@eu-west-1b`] }, fsrConfig);
    const again = await runDrillTask(task('start', { database: INSTANCE }), g.deps);
    await runDrillTask(task('restore', await runDrillTask(task('select', again), g.deps)), g.deps);
    await runDrillControl(
      drillExecutionEnded(REGION, '111122223333', EXECUTION.name, 'ABORTED', { database: INSTANCE }),
      g.deps,
    );
    expect(g.ebs.log.filter((l) => l.startsWith('fsr off'))).toEqual([`fsr off ${rest.join(',')}`]);
  });

  it('a restore refused after turning fast snapshot restore on turns off what no volume records', async () => {
    // Prepare: the create of one part is refused; the Catch hands Cleanup the state before Restore.
    const [first, refused] = LATEST.parts!.map((p) => p.id);
    const f = fakeDeps(
      { failCreate: refused },
      {
        ...configInput,
        drill: {
          enabled: true,
          volumes: { [INSTANCE]: { fastSnapshotRestore: true, availabilityZone: 'eu-west-1b' } },
        },
      },
    );
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const selected = await runDrillTask(task('select', started), f.deps);

    // Act
    const failed = await caught('restore', selected, f.deps);
    await runDrillTask(task('cleanup', failed), f.deps);

    // Assert: the refused part's at once, the created one's by Cleanup from its volume's tag.
    expect(failed.error?.Error).toBe('RestoreFailedError');
    expect(f.ebs.log.filter((l) => l.startsWith('fsr off'))).toEqual([
      `fsr off ${refused}`,
      `fsr off ${first}`,
    ]);
  });

  it('skips cleanup when nothing was selected', async () => {
    // Prepare
    const f = fakeDeps();
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);

    // Act
    const cleaned = await runDrillTask(task('cleanup', started), f.deps);

    // Assert
    expect(cleaned.cleanup?.status).toBe('skipped');
    expect(f.ebs.log).toEqual([]);
  });

  it('judges RPO (the set’s age) only for latest: an older set chosen by id is reported, not failed', async () => {
    // Prepare
    const f = fakeDeps();
    const older = sets()[0]!;
    const started = await runDrillTask(
      task('start', { database: INSTANCE, snapshot: { id: older.id }, rpoSeconds: 3600 }),
      f.deps,
    );
    const restored = await runDrillTask(
      task('restore', await runDrillTask(task('select', started), f.deps)),
      f.deps,
    );

    // Act
    at('2026-02-01T05:00:20.000Z');
    const available = await runDrillTask(task('status', restored), f.deps);
    const recorded = await runDrillTask(
      task('record', await runDrillTask(task('cleanup', available), f.deps)),
      f.deps,
    );

    // Assert
    expect(recorded.source?.snapshotId).toBe(older.id);
    expect(recorded.result).toMatchObject({ passed: true });
    expect(recorded.result?.metrics?.rpoSeconds).toBe(26 * 3600);
  });
});

describe('the verify-volumes task (drill.volumes.<id>.verify)', () => {
  const verifying = {
    ...configInput,
    drill: {
      enabled: true,
      volumes: { [INSTANCE]: { rtoSeconds: 600, verify: { command: 'fsck -n /dev/sdf1' } } },
    },
  } satisfies StewardConfigInput;

  /** A drill with every volume available, then verify-volumes (caught like the state machine), cleanup, record. */
  const drill = async (o: FakeVerifierOptions, input: StewardConfigInput = verifying) => {
    const f = fakeDeps({}, input);
    const verifier = fakeVerifier(o, () => clock);
    f.deps.ebs = { ...f.ebs, verifier };
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const selected = await runDrillTask(task('select', started), f.deps);
    at('2026-02-01T05:00:02.000Z');
    const restored = await runDrillTask(task('restore', selected), f.deps);
    at('2026-02-01T05:00:17.000Z');
    const available = await runDrillTask(task('status', restored), f.deps);
    at('2026-02-01T05:01:00.000Z');
    const verified = await caught('verify-volumes', available, f.deps);
    const cleaned = await runDrillTask(task('cleanup', verified), f.deps);
    const recorded = await runDrillTask(task('record', cleaned), f.deps);
    return { ...f, verifier, available, verified, recorded };
  };

  it('attaches the restored volumes to a verifier, runs the check, and a passed check passes the drill', async () => {
    // Act
    const r = await drill({ check: { status: 'success', output: 'clean' } });

    // Assert
    expect(r.available.available).toBe(true);
    expect(r.verified.ebs?.verification).toMatchObject({ outcome: 'passed', output: 'clean' });
    expect(r.verified.ebs?.verifier).toMatchObject({ status: 'passed', instanceType: 't4g.small' });
    expect(r.verifier.log.filter((l) => l.startsWith('attach'))).toHaveLength(2);
    expect(r.verifier.live.size).toBe(0);
    expect(r.ebs.live.size).toBe(0);
    expect(r.recorded.result).toMatchObject({ passed: true, outcome: 'passed' });
  });

  it('a failed check fails the drill, and the volumes are still deleted', async () => {
    // Act
    const r = await drill({ check: { status: 'failed', detail: 'fsck: /dev/sdf1 has errors' } });

    // Assert
    expect(r.verified.ebs?.verification?.outcome).toBe('failed');
    expect(r.verified.error).toBeUndefined();
    expect(r.verifier.live.size).toBe(0);
    expect(r.ebs.live.size).toBe(0);
    expect(r.recorded.result).toMatchObject({ passed: false, outcome: 'failed' });
    expect(r.notifier.sent[0]?.severity).toBe('critical');
  });

  it('a verifier that cannot launch makes the drill inconclusive, not failed', async () => {
    // Act
    const r = await drill({ failLaunch: true });

    // Assert
    expect(r.verified.ebs?.verification?.outcome).toBe('inconclusive');
    expect(r.verified.ebs?.verification?.summary).toContain('InsufficientInstanceCapacity');
    expect(r.ebs.live.size).toBe(0);
    expect(r.recorded.result).toMatchObject({ passed: false, outcome: 'inconclusive' });
  });

  it('passes the state on unchanged for a target without verify', async () => {
    // Act
    const r = await drill({}, configInput);

    // Assert
    expect(r.verified).toEqual(r.available);
    expect(r.verifier.log).toEqual([]);
    expect(r.recorded.result).toMatchObject({ passed: true, outcome: 'passed' });
  });

  it('fails into cleanup when the function has no verifier wiring', async () => {
    // Prepare
    const f = fakeDeps({}, verifying);
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const restored = await runDrillTask(
      task('restore', await runDrillTask(task('select', started), f.deps)),
      f.deps,
    );
    const available = await runDrillTask(task('status', restored), f.deps);

    // Act
    const failed = await caught('verify-volumes', available, f.deps);

    // Assert
    expect(failed.error?.Error).toBe('ConfigError');
    expect(failed.error?.Cause).toContain('no verifier wiring');
  });

  it('the janitor terminates verifier instances a drill left behind', async () => {
    // Prepare: a verifier left running for a day
    const f = fakeDeps({}, verifying);
    const verifier = fakeVerifier({}, () => clock);
    f.deps.ebs = { ...f.ebs, verifier };
    verifier.live.set('i-0stray', {
      instanceId: 'i-0stray',
      state: 'running',
      launchedAt: '2026-01-31T05:00:00.000Z',
      tags: { [Tag.drill]: 'old-drill', [Tag.managed]: 'true', [Tag.kind]: 'ebs-verifier' },
    });

    // Act
    await runDrillControl({ action: 'janitor' }, f.deps);

    // Assert
    expect(verifier.log).toContain('terminate i-0stray');
    expect(verifier.live.size).toBe(0);
  });
});

describe('selectSet', () => {
  const opts = { source: INSTANCE, now: new Date('2026-02-01T05:00:00Z'), seed: 'x' };

  it.each([
    ['latest', 'latest' as const, LATEST.id],
    ['a set by id', { id: sets()[0]!.id }, sets()[0]!.id],
  ])('picks %s', (_, selector, id) => {
    expect(selectSet(selector, sets(), opts).id).toBe(id);
  });

  it('picks the same set for the same seed within the window', () => {
    const a = selectSet({ randomWithinDays: 2 }, sets(), opts).id;
    expect(selectSet({ randomWithinDays: 2 }, sets(), opts).id).toBe(a);
    expect([sets()[0]!.id, LATEST.id]).toContain(a);
  });

  it.each([
    ['an incomplete set by id', { id: sets()[2]!.id }, /is creating, not complete/],
    ['an unknown set', { id: 'steward-nope' }, /not found/],
    ['a point in time', { pointInTime: '2026-02-01T00:00:00Z' }, /not a point in time/],
  ])('refuses %s', (_, selector, message) => {
    expect(() => selectSet(selector, sets(), opts)).toThrow(message);
    expect(() => selectSet(selector, sets(), opts)).toThrow(SnapshotSelectionError);
  });

  it('refuses when no complete set exists', () => {
    expect(() => selectSet('latest', [sets()[2]!], opts)).toThrow(/no complete snapshot set/);
  });
});

describe('EBS drill volumes outside a drill', () => {
  it('the janitor sweeps drill volumes older than its age', async () => {
    // Prepare
    const f = fakeDeps();
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    await runDrillTask(task('restore', await runDrillTask(task('select', started), f.deps)), f.deps);

    // Act: the fake's volumes were created at the epoch
    const result = (await runDrillControl({ action: 'janitor' }, f.deps)) as {
      outcomes: { status: string }[];
    };

    // Assert
    expect(result.outcomes.map((o) => o.status)).toEqual(['done', 'done']);
    expect(f.ebs.live.size).toBe(0);
  });

  it('an execution that ended outside the drill has its volumes deleted at once', async () => {
    // Prepare
    const f = fakeDeps();
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    await runDrillTask(task('restore', await runDrillTask(task('select', started), f.deps)), f.deps);

    // Act
    await runDrillControl(drillExecutionEnded(REGION, '111122223333', EXECUTION.name), f.deps);

    // Assert
    expect(f.ebs.live.size).toBe(0);
    expect(f.notifier.sent[0]?.lines.join('\n')).toContain('ebs-volume vol-0drill0001 done');
  });
  it('an execution that ended outside the drill has fast snapshot restore turned off, not billed on', async () => {
    // Prepare: fast snapshot restore is billed per snapshot and zone hour until it is disabled; only the drill's
    // Cleanup step turned it off, which a stopped (or timed-out) execution never reaches.
    const f = fakeDeps(
      {},
      {
        ...configInput,
        drill: {
          enabled: true,
          volumes: { [INSTANCE]: { fastSnapshotRestore: true, availabilityZone: 'eu-west-1b' } },
        },
      },
    );
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    await runDrillTask(task('restore', await runDrillTask(task('select', started), f.deps)), f.deps);

    // Act
    await runDrillControl(
      drillExecutionEnded(REGION, '111122223333', EXECUTION.name, 'ABORTED', { database: INSTANCE }),
      f.deps,
    );

    // Assert
    const snaps = LATEST.parts!.map((p) => p.id).join(',');
    expect(f.ebs.live.size).toBe(0);
    expect(f.ebs.log.at(-1)).toBe(`fsr off ${snaps}`);
    expect(f.notifier.sent[0]?.lines.join('\n')).toMatch(
      new RegExp(`fast snapshot restore of ${LATEST.parts![0]!.id}.* in eu-west-1b done`),
    );
  });

  it('an execution that ended outside the drill leaves fast snapshot restore alone when its target does not use it', async () => {
    // Prepare
    const f = fakeDeps();
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    await runDrillTask(task('restore', await runDrillTask(task('select', started), f.deps)), f.deps);

    // Act
    await runDrillControl(
      drillExecutionEnded(REGION, '111122223333', EXECUTION.name, 'ABORTED', { database: INSTANCE }),
      f.deps,
    );

    // Assert
    expect(f.ebs.log.filter((l) => l.startsWith('fsr'))).toEqual([]);
  });
});

// Fast snapshot restore is billed per snapshot and zone hour. What a drill turns on is recorded in the state table
// (FastRestoreLedger) before it is turned on, so it is turned off even when the drill's state is lost.
describe('fast snapshot restore recorded before it is turned on', () => {
  const ZONE = 'eu-west-1b';
  const fsrConfig = {
    ...configInput,
    drill: { enabled: true, volumes: { [INSTANCE]: { fastSnapshotRestore: true, availabilityZone: ZONE } } },
  } satisfies StewardConfigInput;
  const SNAPS = LATEST.parts!.map((p) => p.id);
  const withLedger = (o: FakeEbsOptions = {}) => {
    const f = fakeDeps(o, fsrConfig);
    const ledger = fakeFastRestoreLedger();
    f.ebs.fastRestores = ledger;
    return { ...f, ledger };
  };
  const offs = (log: string[]) => log.filter((l) => l.startsWith('fsr off'));
  /** A drill whose Restore turned fast snapshot restore on and then failed: its state never recorded it. */
  const enabledThenLost = async (f: ReturnType<typeof withLedger>) => {
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const selected = await runDrillTask(task('select', started), f.deps);
    const failed = await caught('restore', selected, f.deps);
    expect(failed.error?.Cause).toContain('RequestLimitExceeded');
    return failed;
  };

  it('a Restore that fails after the enable leaves a record, and Cleanup turns it off and forgets it', async () => {
    // Prepare: the enable went through, its answer was lost; the Catch hands Cleanup the state before Restore,
    // which records nothing turned on (fastRestored: []) and no volume exists to carry the tag.
    const f = withLedger({ failEnable: true });
    const selected = await enabledThenLost(f);
    expect([...f.ledger.records.values()].map((r) => r.snapshotId).sort()).toEqual([...SNAPS].sort());

    // Act
    const cleaned = await runDrillTask(task('cleanup', selected), f.deps);

    // Assert
    expect(offs(f.ebs.log)).toEqual([`fsr off ${[...SNAPS].sort().join(',')}`]);
    expect(f.ledger.records.size).toBe(0);
    expect(cleaned.ebs?.cleanup).toContainEqual(
      expect.objectContaining({ action: 'disable', status: 'done' }),
    );
  });

  it('a run that ends between the enable and its record leaves an entry; the janitor turns it off and clears it', async () => {
    // Prepare: the execution is stopped after the enable (no Cleanup, no volume); the execution-ended rule's own
    // disable is throttled past its retries.
    const f = withLedger({ failEnable: true });
    await enabledThenLost(f);
    const g = { ...f.deps, ebs: { ...f.ebs, volumes: { ...f.ebs.volumes } } };
    g.ebs.volumes.disableFastRestore = async (ids) => {
      f.ebs.log.push(`fsr off ${ids.join(',')} refused`);
      throw new Error('RequestLimitExceeded: DisableFastSnapshotRestores');
    };
    await expect(
      runDrillControl(drillExecutionEnded(REGION, '111122223333', EXECUTION.name, 'ABORTED'), g),
    ).rejects.toThrow();
    expect(f.ledger.records.size).toBe(2);

    // Act: the janitor's sweep once the drill is older than its age, and the next one
    const young = await runDrillControl({ action: 'janitor' }, f.deps);
    at(new Date(clock.getTime() + (janitorMaxAgeHours(f.deps.config.drill) + 1) * 3_600_000).toISOString());
    await runDrillControl({ action: 'janitor' }, f.deps);
    const after = offs(f.ebs.log).length;
    await runDrillControl({ action: 'janitor' }, f.deps);

    // Assert: a young record is a running drill's, left alone; an old one is turned off once and forgotten.
    expect(young).toMatchObject({ outcomes: [] });
    expect(offs(f.ebs.log).filter((l) => !l.endsWith('refused'))).toEqual([
      `fsr off ${[...SNAPS].sort().join(',')}`,
    ]);
    expect(offs(f.ebs.log)).toHaveLength(after);
    expect(f.ledger.records.size).toBe(0);
    expect(f.notifier.sent.at(-1)?.lines.join('\n')).toContain(
      `Turned off fast snapshot restore of ${[...SNAPS].sort().join(', ')} in ${ZONE}`,
    );
  });

  it('the execution-ended rule turns off what the record names, with no volume to read it from', async () => {
    const f = withLedger({ failEnable: true });
    await enabledThenLost(f);

    await runDrillControl(drillExecutionEnded(REGION, '111122223333', EXECUTION.name, 'TIMED_OUT'), f.deps);

    expect(offs(f.ebs.log)).toEqual([`fsr off ${[...SNAPS].sort().join(',')}`]);
    expect(f.ledger.records.size).toBe(0);
  });

  it('a Cleanup whose disable fails keeps the record for the janitor', async () => {
    const f = withLedger({ failDisable: true });
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const restored = await runDrillTask(
      task('restore', await runDrillTask(task('select', started), f.deps)),
      f.deps,
    );

    await expect(runDrillTask(task('cleanup', restored), f.deps)).rejects.toBeInstanceOf(PartialFailureError);

    expect(f.ebs.live.size).toBe(0);
    expect(f.ledger.records.size).toBe(2);
  });

  it("never touches fast snapshot restore someone else turned on (no record), not even the janitor's sweep", async () => {
    // Prepare: the first part's was on before the drill; the drill fails after its enable, and a stale record of
    // another drill names a snapshot a running drill records too.
    const [theirs, ...ours] = SNAPS;
    const f = withLedger({ failEnable: true, fastRestoreOn: [`${theirs}@${ZONE}`] });
    await enabledThenLost(f);
    const old = new Date(clock.getTime() - 48 * 3_600_000).toISOString();
    await f.ledger.record({
      drillId: 'dead-1',
      snapshotId: 'snap-0shared',
      availabilityZone: ZONE,
      region: REGION,
      enabledAt: old,
    });
    await f.ledger.record({
      drillId: 'running-1',
      snapshotId: 'snap-0shared',
      availabilityZone: ZONE,
      region: REGION,
      enabledAt: clock.toISOString(),
    });

    // Act
    at(new Date(clock.getTime() + (janitorMaxAgeHours(f.deps.config.drill) + 1) * 3_600_000).toISOString());
    await f.ledger.forget({ drillId: 'running-1', snapshotId: 'snap-0shared', availabilityZone: ZONE });
    await f.ledger.record({
      drillId: 'running-1',
      snapshotId: 'snap-0shared',
      availabilityZone: ZONE,
      region: REGION,
      enabledAt: clock.toISOString(),
    });
    await runDrillControl({ action: 'janitor' }, f.deps);

    // Assert: the drill's own is off; someone else's never; the running drill's stays on, the dead one's record goes.
    expect(offs(f.ebs.log)).toEqual([`fsr off ${ours.join(',')}`]);
    expect(f.ebs.log.join('\n')).not.toContain(theirs);
    expect([...f.ledger.records.values()].map((r) => r.drillId)).toEqual(['running-1']);
  });
});

describe('drill.volumes config', () => {
  it.each([
    [{ 'i-0abc1234def567890': { snapshot: { pointInTime: '2026-01-01T00:00:00Z' } } }, 'pointInTime'],
    [{ 'db-1': {} }, 'must be an EC2 instance id'],
    [{ 'i-0abc1234def567890': { pollSeconds: 60, timeoutSeconds: 60 } }, 'less than timeoutSeconds'],
  ])('refuses %j', (volumes, message) => {
    expect(() => parseConfig({ stage: 'x', region: REGION, drill: { volumes } }, 'test')).toThrow(message);
  });

  it('refuses a key that is also a database target', () => {
    expect(() =>
      parseConfig(
        {
          stage: 'x',
          region: REGION,
          drill: {
            targets: { 'i-0abc1234def567890': { profile: { database: 'app' } } },
            volumes: { 'i-0abc1234def567890': {} },
          },
        } as StewardConfigInput,
        'test',
      ),
    ).toThrow('is also in drill.targets');
  });

  it.each([
    ['the stage region as dr.region', { region: REGION }, {}, 'volumes.i-0abc1234def567890.from'],
    ['a zone of another region', {}, { availabilityZone: 'eu-west-1a' }, 'not a zone of us-west-2'],
  ])('refuses from: dr with %s, naming the key', (_, dr, target, message) => {
    expect(() =>
      parseConfig(
        {
          stage: 'x',
          region: REGION,
          dr: { region: 'us-west-2', ...dr },
          drill: { volumes: { 'i-0abc1234def567890': { from: 'dr', ...target } } },
        } as StewardConfigInput,
        'test',
      ),
    ).toThrow(message);
  });

  it('accepts from: dr with a verifier: it runs in the DR region', () => {
    const c = parseConfig(
      {
        stage: 'x',
        region: REGION,
        dr: { region: 'us-west-2' },
        drill: {
          volumes: { 'i-0abc1234def567890': { from: 'dr', verify: { command: 'fsck -n /dev/sdf1' } } },
        },
      } as StewardConfigInput,
      'test',
    );
    expect(c.drill.volumes['i-0abc1234def567890']).toMatchObject({
      from: 'dr',
      verify: { command: 'fsck -n /dev/sdf1', instanceType: 't4g.small' },
    });
  });
});

describe('an EBS drill from the DR copies (from: dr)', () => {
  const DR = 'us-west-2';
  const drInput = {
    stage: 'prod',
    region: REGION,
    dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:111122223333:key/dr` },
    // A day's copy lands a while after the set: 28 h of RPO for a daily set drilled from DR.
    drill: { enabled: true, volumes: { [INSTANCE]: { from: 'dr', rtoSeconds: 600, rpoSeconds: 100_800 } } },
  } satisfies StewardConfigInput;
  // The copies keep the set's id and tags; their time is the source set's (steward:taken-at).
  const copy = (createdAt: string, over = {}) =>
    ebsSet(
      INSTANCE,
      createdAt,
      ['vol-0root', 'vol-0data'],
      { sourceRegion: REGION, copiedAt: '2026-02-01T04:10:00.000Z', ...over },
      DR,
    );
  const NEWEST_COPY = copy('2026-01-31T03:00:00.000Z');
  const drDeps = (zone = async () => `${DR}b`) => {
    const f = fakeDeps({}, drInput);
    const dr = fakeEbs(
      [
        copy('2026-01-30T03:00:00.000Z'),
        NEWEST_COPY,
        // The newest set's copy is still copying: never drilled.
        copy('2026-02-01T03:00:00.000Z', { status: 'copying' }),
      ],
      {},
      DR,
    );
    const zones: string[] = [];
    f.deps.ebs = {
      ...f.ebs,
      dr: {
        sets: dr.sets,
        volumes: dr.volumes,
        availabilityZone: async () => {
          zones.push('asked');
          return zone();
        },
      },
    };
    return { ...f, dr, zones };
  };

  it('restores the newest complete copy in the DR region, measures RTO and RPO from the source set, and deletes the volumes there', async () => {
    // Prepare
    const f = drDeps();

    // Act
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const selected = await runDrillTask(task('select', started), f.deps);
    at('2026-02-01T05:00:02.000Z');
    const restored = await runDrillTask(task('restore', selected), f.deps);
    at('2026-02-01T05:00:20.000Z');
    const polled = await runDrillTask(task('status', restored), f.deps);
    const cleaned = await runDrillTask(task('cleanup', polled), f.deps);
    const recorded = await runDrillTask(task('record', cleaned), f.deps);

    // Assert: the copy, not the primary's newer set; every call in the DR region
    expect(selected.source).toEqual({
      snapshotId: NEWEST_COPY.id,
      snapshotArn: NEWEST_COPY.arn,
      referenceTime: NEWEST_COPY.createdAt,
      region: DR,
    });
    expect(selected.ebs?.settings).toMatchObject({ availabilityZone: `${DR}b`, region: DR });
    expect(f.dr.log.filter((l) => l.startsWith('create'))).toEqual(
      NEWEST_COPY.parts!.map((p) => `create ${p.id}`),
    );
    expect(f.ebs.log).toEqual([]);
    expect(polled).toMatchObject({ available: true });
    expect(f.dr.live.size).toBe(0);
    expect(cleaned.cleanup).toMatchObject({ status: 'deleted' });
    expect(recorded.result).toMatchObject({ passed: true, outcome: 'passed' });
    // RPO: the source set's age at the drill's start (26 h), not the copy's.
    expect(recorded.result?.metrics).toMatchObject({ rtoSeconds: 20, rpoSeconds: 93_600, rpoMet: true });
  });

  it('restores in the zone the target names, without asking EC2 for one', async () => {
    // Prepare
    const f = drDeps();
    f.deps.config = parseConfig(
      {
        ...drInput,
        drill: {
          enabled: true,
          volumes: { [INSTANCE]: { from: 'dr', availabilityZone: `${DR}c` } },
        },
      },
      'test',
    );

    // Act
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    const selected = await runDrillTask(task('select', started), f.deps);

    // Assert
    expect(selected.ebs?.settings.availabilityZone).toBe(`${DR}c`);
    expect(f.zones).toEqual([]);
  });

  it('fails at select, naming the setting, when the function has no DR wiring', async () => {
    // Prepare
    const f = fakeDeps({}, drInput);
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);

    // Act
    const failed = await caught('select', started, f.deps);

    // Assert
    expect(failed.error?.Error).toBe('ConfigError');
    expect(failed.error?.Cause).toContain('from its DR copies');
    expect(f.ebs.log).toEqual([]);
  });

  it('the janitor finds drill volumes in the DR region too', async () => {
    // Prepare: one drill's volumes left in the DR region, one in the stage region
    const f = drDeps();
    const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
    await runDrillTask(task('restore', await runDrillTask(task('select', started), f.deps)), f.deps);
    await f.ebs.volumes.createVolume({
      snapshotId: 'snap-0primary',
      availabilityZone: `${REGION}a`,
      volumeType: 'gp3',
      clientToken: 't',
      tags: { [Tag.drill]: 'an-older-drill', [Tag.managed]: 'true' },
    });

    // Act
    const result = (await runDrillControl({ action: 'janitor' }, f.deps)) as {
      outcomes: { status: string }[];
    };

    // Assert
    expect(result.outcomes.map((o) => o.status)).toEqual(['done', 'done', 'done']);
    expect(f.dr.live.size).toBe(0);
    expect(f.ebs.live.size).toBe(0);
  });
  it('a DR region whose volumes cannot be listed does not keep the janitor from the stage region’s', async () => {
    // Prepare: a volume left in the stage region; the DR region's EC2 is throttled past retries.
    const f = drDeps();
    await f.ebs.volumes.createVolume({
      snapshotId: 'snap-0primary',
      availabilityZone: `${REGION}a`,
      volumeType: 'gp3',
      clientToken: 't',
      tags: { [Tag.drill]: 'an-older-drill', [Tag.managed]: 'true' },
    });
    f.dr.volumes.listDrillVolumes = async () => {
      throw Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });
    };

    // Act
    const run = runDrillControl({ action: 'janitor' }, f.deps);

    // Assert
    await expect(run).rejects.toThrow(/Request limit exceeded/);
    expect(f.ebs.live.size).toBe(0);
  });

  describe('with a verifier (verify), which runs in the DR region', () => {
    const verifyingDr = {
      ...drInput,
      drill: {
        enabled: true,
        volumes: {
          [INSTANCE]: {
            from: 'dr',
            rtoSeconds: 600,
            rpoSeconds: 100_800,
            verify: { command: 'fsck -n /dev/sdf1' },
          },
        },
      },
    } satisfies StewardConfigInput;
    /** The DR wiring plus a verifier there, in the zone the DR stack's network publishes. */
    const withDrVerifier = (
      o: FakeVerifierOptions = {},
      zone: () => Promise<string> = async () => `${DR}a`,
    ) => {
      const f = drDeps();
      f.deps.config = parseConfig(verifyingDr, 'test');
      const stageVerifier = fakeVerifier({}, () => clock);
      const drVerifier = fakeVerifier(o, () => clock, DR);
      const zones: string[] = [];
      f.deps.ebs = {
        ...f.deps.ebs!,
        verifier: stageVerifier,
        dr: {
          ...f.deps.ebs!.dr!,
          verifier: drVerifier,
          verifierZone: async () => {
            zones.push('asked');
            return zone();
          },
        },
      };
      return { ...f, stageVerifier, drVerifier, verifierZones: zones };
    };
    const drill = async (f: ReturnType<typeof withDrVerifier>) => {
      const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
      const selected = await runDrillTask(task('select', started), f.deps);
      at('2026-02-01T05:00:02.000Z');
      const restored = await runDrillTask(task('restore', selected), f.deps);
      at('2026-02-01T05:00:20.000Z');
      const available = await runDrillTask(task('status', restored), f.deps);
      at('2026-02-01T05:01:00.000Z');
      const verified = await caught('verify-volumes', available, f.deps);
      const cleaned = await runDrillTask(task('cleanup', verified), f.deps);
      const recorded = await runDrillTask(task('record', cleaned), f.deps);
      return { selected, verified, recorded };
    };

    it("restores in the DR verifier network's zone, verifies there, and deletes the volumes and the verifier", async () => {
      // Prepare
      const f = withDrVerifier({ check: { status: 'success', output: 'clean' } });

      // Act
      const r = await drill(f);

      // Assert: the zone is the DR network's, not EC2's first; the verifier is the DR region's only
      expect(r.selected.ebs?.settings).toMatchObject({ availabilityZone: `${DR}a`, region: DR });
      expect(f.zones).toEqual([]);
      expect(f.drVerifier.log.filter((l) => l.startsWith('launch'))).toEqual([`launch ${DR}a t4g.small`]);
      const attached = f.drVerifier.log.filter((l) => l.startsWith('attach'));
      expect(attached).toHaveLength(2);
      for (const l of attached) expect(l).toMatch(/^attach vol-0other\d+ i-0verifierdr1 \/dev\/sd[a-z]$/);
      expect(f.stageVerifier.log).toEqual([]);
      expect(f.drVerifier.live.size).toBe(0);
      expect(f.dr.live.size).toBe(0);
      expect(f.ebs.log).toEqual([]);
      expect(r.verified.ebs?.verification).toMatchObject({ outcome: 'passed', output: 'clean' });
      expect(r.recorded.result).toMatchObject({ passed: true, outcome: 'passed' });
    });

    it('a failed check in the DR region fails the drill; the volumes and the verifier are gone', async () => {
      // Prepare
      const f = withDrVerifier({ check: { status: 'failed', detail: 'fsck: /dev/sdf1 has errors' } });

      // Act
      const r = await drill(f);

      // Assert
      expect(r.verified.ebs?.verification?.outcome).toBe('failed');
      expect(f.drVerifier.live.size).toBe(0);
      expect(f.dr.live.size).toBe(0);
      expect(r.recorded.result).toMatchObject({ passed: false, outcome: 'failed' });
      expect(f.notifier.sent[0]?.severity).toBe('critical');
    });

    it('fails at select, naming the parameter and the stack, when the DR stack has no verifier network', async () => {
      // Prepare: the parameter read fails as the adapter reports it
      const f = withDrVerifier({}, async () => {
        throw new ConfigError('No EBS verifier network in us-west-2', [
          '/steward/prod/drill/dr-ebs-verifier: parameter not found; deploy Steward-prod-dr',
        ]);
      });
      const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);

      // Act
      const failed = await caught('select', started, f.deps);

      // Assert: nothing was restored, nothing launched
      expect(failed.error?.Error).toBe('ConfigError');
      expect(failed.error?.Cause).toContain('/steward/prod/drill/dr-ebs-verifier');
      expect(failed.error?.Cause).toContain('Steward-prod-dr');
      expect(f.dr.log.filter((l) => l.startsWith('create'))).toEqual([]);
      expect(f.drVerifier.log).toEqual([]);
    });

    it('reads the DR network even when the target names its zone', async () => {
      // Prepare
      const f = withDrVerifier({}, async () => {
        throw new ConfigError('No EBS verifier network in us-west-2', ['deploy Steward-prod-dr']);
      });
      f.deps.config = parseConfig(
        {
          ...verifyingDr,
          drill: {
            enabled: true,
            volumes: { [INSTANCE]: { from: 'dr', availabilityZone: `${DR}c`, verify: { command: 'true' } } },
          },
        },
        'test',
      );
      const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);

      // Act
      const failed = await caught('select', started, f.deps);

      // Assert
      expect(failed.error?.Cause).toContain('Steward-prod-dr');
    });

    it('fails at select, naming the setting, when the function has no verifier wiring in the DR region', async () => {
      // Prepare: the DR wiring restores, but has no verifier
      const f = drDeps();
      f.deps.config = parseConfig(verifyingDr, 'test');
      const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);

      // Act
      const failed = await caught('select', started, f.deps);

      // Assert
      expect(failed.error?.Error).toBe('ConfigError');
      expect(failed.error?.Cause).toContain(`drill.volumes.${INSTANCE}.verify`);
      expect(failed.error?.Cause).toContain(DR);
    });

    it('an execution that ended outside the drill deletes its DR volumes and releases the DR endpoints', async () => {
      // Prepare: restored in the DR region, the DR endpoints created for it
      const f = withDrVerifier();
      const drEndpoints = fakeEndpoints({}, DR);
      f.deps.drEndpoints = async () => drEndpoints;
      const started = await runDrillTask(task('start', { database: INSTANCE }), f.deps);
      const selected = await runDrillTask(task('select', started), f.deps);
      await runDrillTask(task('endpoints', selected), f.deps);
      await runDrillTask(task('restore', selected), f.deps);
      expect(drEndpoints.live()).toHaveLength(3);

      // Act
      await runDrillControl(drillExecutionEnded(REGION, '111122223333', EXECUTION.name), f.deps);

      // Assert
      expect(f.dr.live.size).toBe(0);
      expect(drEndpoints.live()).toEqual([]);
      expect(f.notifier.sent[0]?.lines.join('\n')).toContain('Released the drill endpoints');
    });

    it('the last drill to end releases the endpoints of both regions, whichever it ran in', async () => {
      // Prepare: endpoints left in both drill VPCs; a stage-region drill ends
      const f = withDrVerifier();
      const stage = fakeEndpoints({}, REGION);
      const dr = fakeEndpoints({}, DR);
      for (const [e, region] of [
        [stage, REGION],
        [dr, DR],
      ] as const)
        await e.port.create({
          ...e.spec.endpoints.ssm!,
          key: 'ssm',
          clientToken: `t-${region}`,
          tags: { [Tag.managed]: 'true', [Tag.drillEndpoint]: 'ssm', [Tag.drill]: 'x' },
        });
      f.deps.endpoints = stage;
      f.deps.drEndpoints = async () => dr;

      // Act
      const closed = await runDrillTask(
        task('close-endpoints', { drillId: 'other', database: 'orders' }),
        f.deps,
      );

      // Assert
      expect(closed.endpointsClosed).toMatchObject({ status: 'deleted' });
      expect(stage.live()).toEqual([]);
      expect(dr.live()).toEqual([]);
    });

    it('a stage-region drill still closes when the DR network cannot be read; a DR drill does not', async () => {
      // Prepare
      const f = withDrVerifier();
      f.deps.endpoints = fakeEndpoints({}, REGION);
      f.deps.drEndpoints = async () => {
        throw new ConfigError('No EBS verifier network in us-west-2', ['deploy Steward-prod-dr']);
      };

      // Act
      const stage = await runDrillTask(
        task('close-endpoints', { drillId: 'other', database: 'orders' }),
        f.deps,
      );
      const dr = runDrillTask(
        task('close-endpoints', {
          drillId: 'x',
          database: INSTANCE,
          source: { snapshotId: 's', region: DR },
        }),
        f.deps,
      );

      // Assert
      expect(stage.endpointsClosed).toMatchObject({ status: 'none' });
      await expect(dr).rejects.toThrow('Steward-prod-dr');
    });

    it('the janitor terminates verifier instances left in the DR region', async () => {
      // Prepare: a verifier left running for a day in each region
      const f = withDrVerifier();
      const stray = (id: string) => ({
        instanceId: id,
        state: 'running',
        launchedAt: '2026-01-31T05:00:00.000Z',
        tags: { [Tag.drill]: 'old-drill', [Tag.managed]: 'true', [Tag.kind]: 'ebs-verifier' },
      });
      f.drVerifier.live.set('i-0straydr', stray('i-0straydr'));
      f.stageVerifier.live.set('i-0stray', stray('i-0stray'));

      // Act
      await runDrillControl({ action: 'janitor' }, f.deps);

      // Assert: each terminated by its own region's port
      expect(f.drVerifier.log).toContain('terminate i-0straydr');
      expect(f.stageVerifier.log).toContain('terminate i-0stray');
      expect(f.drVerifier.live.size + f.stageVerifier.live.size).toBe(0);
    });
  });
});
