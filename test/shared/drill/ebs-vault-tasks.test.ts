import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { runJanitor } from '../../../shared/drill/janitor.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { type DrillDeps, runDrillControl, runDrillTask } from '../../../shared/drill/tasks.js';
import { ConfigError, PartialFailureError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { fakeVerifier } from '../../fakes/ebs-verifier-ports.js';
import { Tag } from '../../../shared/tags.js';
import { fakeReportStore, fakeRestorePort, fakeTaskSignal, fakeTokenStore } from '../../fakes/drill-ports.js';
import {
  type FakeEbsVaultOptions,
  ebsSet,
  fakeEbs,
  fakeEbsVault,
  vaultEbsSet,
} from '../../fakes/ebs-drill-ports.js';
import { drillExecutionEnded, drillTasksOf, quietMetricsEachTest } from '../../support/drill-tasks.js';

// EBS drills from the backup vault (`drill.volumes.<id>.from: vault`) through the drill tasks, over in-memory EC2
// (the hub's volumes) and an in-memory vault (its sets and each part's create-volume permission): the pick, each
// part recorded and then shared with the hub before any volume is created from it, the volumes re-encrypted with
// the hub's key, and a cleanup that deletes the volumes and then takes every share back, on every path.
const REGION = 'eu-west-1';
const HUB = '111111111111';
const SPOKE = '222222222222';
const VAULT = '999999999999';
const INSTANCE = 'i-0abc1234def567890';
const EXECUTION = { name: 'monthly-mongo-20260201-0500', startTime: '2026-02-01T05:00:00.000Z' };

const configInput = (volume: Record<string, unknown> = {}): StewardConfigInput => ({
  stage: 'prod',
  account: HUB,
  region: REGION,
  fleet: { organizationId: 'o-a1b2c3d4e5', vault: { account: VAULT, retention: 'vault' } },
  targets: [{}, { account: SPOKE }],
  retention: { policies: { standard: {}, vault: { daily: 35 } } },
  drill: {
    enabled: true,
    volumes: { [INSTANCE]: { from: 'vault', account: SPOKE, rtoSeconds: 600, ...volume } },
  },
});

const inVault = (takenAt: string, over: Parameters<typeof vaultEbsSet>[3]['over'] = {}, account = SPOKE) =>
  vaultEbsSet(INSTANCE, takenAt, ['vol-0root', 'vol-0data'], {
    sourceAccount: account,
    vaultAccount: VAULT,
    over,
  });
const LATEST = inVault('2026-02-01T03:00:00.000Z');
const vaultSets = () => [
  inVault('2026-01-31T03:00:00.000Z'),
  LATEST,
  // Newer, but its copy is still running: never drilled.
  inVault('2026-02-01T04:00:00.000Z', { status: 'creating' }),
  // Newer, the same instance id in another account: not this target's.
  inVault('2026-02-01T04:30:00.000Z', {}, '333333333333'),
  // Newer, tagged like a copy but not made by the vault copy role: not a vault copy.
  inVault('2026-02-01T04:40:00.000Z', { tags: { ...LATEST.tags, 'steward:created-by': 'backup' } }),
];

let clock: Date;
const at = (iso: string) => void (clock = new Date(iso));

const fakeDeps = (
  o: FakeEbsVaultOptions & { failCreate?: string; failDelete?: boolean; dryRun?: boolean } = {},
  input = configInput(),
  wired = true,
) => {
  const vault = fakeEbsVault(vaultSets(), { ...o, hub: HUB, vaultAccount: VAULT });
  // The hub's own sets of the same instance id: never what a drill from the vault restores.
  const ebs = fakeEbs([ebsSet(INSTANCE, '2026-02-01T04:50:00.000Z', ['vol-0root'])], {
    ...(o.failCreate ? { failCreate: o.failCreate } : {}),
    ...(o.failDelete ? { failDelete: o.failDelete } : {}),
    readable: vault.readable,
  });
  const notifier = memoryNotifier();
  const reports = fakeReportStore();
  const deps: DrillDeps = {
    config: parseConfig(input, 'test'),
    dryRun: o.dryRun ?? false,
    notifier,
    now: () => clock,
    restore: fakeRestorePort(REGION),
    ebs,
    ...(wired ? { vault } : {}),
    tokens: fakeTokenStore(),
    signal: fakeTaskSignal(),
    reports,
    network: {},
  };
  return { deps, ebs, vault, notifier, reports };
};

const { task, caught } = drillTasksOf(EXECUTION);

const selected = async (f: ReturnType<typeof fakeDeps>) =>
  runDrillTask(task('select', await runDrillTask(task('start', { database: INSTANCE }), f.deps)), f.deps);

const parts = LATEST.parts!.map((p) => p.id);

beforeEach(() => at('2026-02-01T05:00:00.000Z'));
quietMetricsEachTest();

describe('an EBS drill from the vault', () => {
  it('picks the newest complete vault set of the instance from its own account, dated by the source set', async () => {
    // Prepare
    const f = fakeDeps();

    // Act
    const s = await selected(f);

    // Assert
    expect(f.vault.log).toEqual([`sets ${INSTANCE} ${SPOKE}`]);
    expect(s.source).toEqual({
      snapshotId: LATEST.id,
      snapshotArn: LATEST.arn,
      referenceTime: '2026-02-01T03:00:00.000Z',
    });
    expect(s.ebs?.set.members.map((m) => m.snapshotId)).toEqual(parts);
    expect(s.ebs?.vault).toEqual({
      account: VAULT,
      region: REGION,
      sourceAccount: SPOKE,
      copiedFrom: LATEST.tags[Tag.copiedFrom],
    });
    // Restored in the hub's drill zone, re-encrypted with the hub's own key.
    expect(s.ebs?.settings).toMatchObject({ availabilityZone: 'eu-west-1a', encrypt: true });
    expect(s.ebs?.settings.region).toBeUndefined();
  });

  it('drills the hub’s own instance from the vault when the target names no account', async () => {
    // Prepare: only the hub's sets in the vault
    const input = configInput({ account: undefined });
    const f = fakeDeps({}, input);

    // Act
    const failed = await selected(f).catch((e: unknown) => e as Error);

    // Assert: the vault is asked for the hub's copies, of which there are none here
    expect(f.vault.log).toEqual([`sets ${INSTANCE} ${HUB}`]);
    expect((failed as Error).message).toBe(
      `no complete snapshot set of EBS source ${INSTANCE} of account ${HUB} in vault ${VAULT} ${REGION} to restore`,
    );
  });

  it('records each part before sharing it with the hub, creates the volumes from the shared parts, then cleans up', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await selected(f);
    const unshare = f.vault.vault.unshare.bind(f.vault.vault);
    const liveAtUnshare: number[] = [];
    f.vault.vault.unshare = async (c, to) => {
      liveAtUnshare.push(f.ebs.live.size);
      return unshare(c, to);
    };

    // Act
    at('2026-02-01T05:00:02.000Z');
    const restored = await runDrillTask(task('restore', s), f.deps);
    at('2026-02-01T05:00:17.000Z');
    const available = await runDrillTask(task('status', restored), f.deps);
    const sharedWhileRestored = parts.map((p) => f.vault.permitted.get(p)?.has(HUB));
    at('2026-02-01T05:00:20.000Z');
    const cleaned = await runDrillTask(task('cleanup', available), f.deps);
    const recorded = await runDrillTask(task('record', cleaned), f.deps);

    // Assert
    expect(f.vault.log.slice(1)).toEqual([
      `record ebs ${parts[0]}`,
      `share ${parts[0]} ${HUB}`,
      `record ebs ${parts[1]}`,
      `share ${parts[1]} ${HUB}`,
      `unshare ${parts[0]} ${HUB}`,
      `unshare ${parts[1]} ${HUB}`,
      `forget ebs ${parts[0]}`,
      `forget ebs ${parts[1]}`,
    ]);
    expect(sharedWhileRestored).toEqual([true, true]);
    expect(f.ebs.log.filter((l) => l.startsWith('create'))).toEqual(parts.map((p) => `create ${p}`));
    // The volumes were deleted before the first unshare.
    expect(liveAtUnshare).toEqual([0, 0]);
    expect(f.ebs.live.size).toBe(0);
    expect(parts.map((p) => f.vault.permitted.get(p)?.has(HUB))).toEqual([false, false]);
    expect(f.vault.shares.shares.size).toBe(0);
    expect(available).toMatchObject({ available: true });
    expect(cleaned.cleanup).toMatchObject({ status: 'deleted' });
    expect(cleaned.ebs?.cleanup?.filter((o) => o.action === 'unshare')).toEqual(
      parts.map((p) => ({
        resource: `vault snapshot ${p} (vault ${VAULT})`,
        action: 'unshare',
        status: 'done',
      })),
    );
    expect(recorded.result).toMatchObject({ passed: true, outcome: 'passed' });
    // RPO from the source set's time (03:00), not the vault copy's.
    expect(recorded.result?.metrics).toMatchObject({ rpoSeconds: 7200, rtoSeconds: 17 });
    const report = JSON.parse(f.reports.objects.get(recorded.result!.reportKey!)!) as {
      ebs: DrillState['ebs'];
    };
    expect(report.ebs?.vault).toMatchObject({ account: VAULT, sourceAccount: SPOKE });
    expect(f.notifier.sent[0]?.lines).toContain(
      `Vault:     the copy in vault ${VAULT} ${REGION} of account ${SPOKE}'s set ${LATEST.tags[Tag.copiedFrom]}`,
    );
  });

  it('creates each volume encrypted with the hub’s default EBS key, tagged as the drill’s', async () => {
    // Prepare
    const f = fakeDeps();

    // Act
    await runDrillTask(task('restore', await selected(f)), f.deps);

    // Assert
    expect(f.ebs.live.size).toBe(2);
    for (const v of f.ebs.live.values()) {
      expect(v).toMatchObject({ encrypted: true });
      expect(v.tags).toMatchObject({ [Tag.drill]: EXECUTION.name, 'steward:snapshot-set': LATEST.id });
    }
  });

  it('a share the vault refuses fails the restore; cleanup takes back the share already made and creates nothing', async () => {
    // Prepare
    const f = fakeDeps({ refuseShare: parts[1] });
    const s = await selected(f);

    // Act
    const failed = await caught('restore', s, f.deps);
    const cleaned = await runDrillTask(task('cleanup', failed), f.deps);
    const recorded = await runDrillTask(task('record', cleaned), f.deps);

    // Assert
    expect(failed.error?.Cause).toContain('AccessDenied');
    expect(f.ebs.log.filter((l) => l.startsWith('create'))).toEqual([]);
    expect(parts.map((p) => f.vault.permitted.get(p)?.has(HUB) ?? false)).toEqual([false, false]);
    expect(f.vault.shares.shares.size).toBe(0);
    expect(recorded.result).toMatchObject({ passed: false, failedStep: 'restore' });
  });

  it('a part the vault no longer has fails the restore naming it', async () => {
    // Prepare
    const f = fakeDeps({ gone: parts[0] });

    // Act
    const failed = await caught('restore', await selected(f), f.deps);

    // Assert
    expect(failed.error?.Error).toBe('SnapshotGoneError');
    expect(failed.error?.Cause).toContain(`vault snapshot ${parts[0]}`);
  });

  it('a refused create fails the restore; cleanup deletes the volume that was made and unshares both parts', async () => {
    // Prepare
    const f = fakeDeps({ failCreate: parts[1] });

    // Act
    const failed = await caught('restore', await selected(f), f.deps);
    const cleaned = await runDrillTask(task('cleanup', failed), f.deps);

    // Assert
    expect(failed.error?.Error).toBe('RestoreFailedError');
    expect(f.ebs.live.size).toBe(0);
    expect(parts.map((p) => f.vault.permitted.get(p)?.has(HUB))).toEqual([false, false]);
    expect(f.vault.shares.shares.size).toBe(0);
    expect(cleaned.cleanup?.status).toBe('deleted');
  });

  it('an unshare the vault refuses fails the cleanup naming the part, after the other part and the volumes; its record stays for the janitor', async () => {
    // Prepare
    const f = fakeDeps({ refuseUnshare: parts[0] });
    const restored = await runDrillTask(task('restore', await selected(f)), f.deps);

    // Act
    const failed = await runDrillTask(task('cleanup', restored), f.deps).catch((e: unknown) => e as Error);

    // Assert
    expect(failed).toBeInstanceOf(PartialFailureError);
    expect((failed as Error).message).toContain(`vault snapshot ${parts[0]}`);
    expect(f.ebs.live.size).toBe(0);
    expect(f.vault.permitted.get(parts[1]!)?.has(HUB)).toBe(false);
    expect([...f.vault.shares.shares.values()].map((x) => x.copyId)).toEqual([parts[0]]);
  });

  it('a dry-run cleanup plans the deletes and the unshares and changes nothing', async () => {
    // Prepare
    const live = fakeDeps();
    const restored = await runDrillTask(task('restore', await selected(live)), live.deps);
    const dry = { ...live.deps, dryRun: true };

    // Act
    const cleaned = await runDrillTask(task('cleanup', restored), dry);

    // Assert
    expect(cleaned.ebs?.cleanup?.map((o) => [o.action, o.status])).toEqual([
      ['delete', 'planned'],
      ['delete', 'planned'],
      ['unshare', 'planned'],
      ['unshare', 'planned'],
    ]);
    expect(live.ebs.live.size).toBe(2);
    expect(parts.map((p) => live.vault.permitted.get(p)?.has(HUB))).toEqual([true, true]);
    expect(live.vault.shares.shares.size).toBe(2);
  });

  it('refuses to select without the vault wiring, naming the target and what it needs', async () => {
    // Prepare: a local run (no vault drill role)
    const f = fakeDeps({}, configInput(), false);

    // Act
    const failed = await selected(f).catch((e: unknown) => e as ConfigError);

    // Assert
    expect(failed).toBeInstanceOf(ConfigError);
    expect((failed as ConfigError).issues.join('\n')).toContain(`drill.volumes.${INSTANCE}.from: vault`);
  });

  it('runs the verifier on the volumes restored from the vault, in the hub’s drill network, then cleans up and unshares', async () => {
    // Prepare: the target configures a read-only check
    const f = fakeDeps({}, configInput({ verify: { command: 'fsck -n /dev/sdf1' } }));
    const verifier = fakeVerifier({ check: { status: 'success', output: 'clean' } }, () => clock);
    f.deps.ebs = { ...f.ebs, verifier };

    // Act
    const restored = await runDrillTask(task('restore', await selected(f)), f.deps);
    at('2026-02-01T05:00:15.000Z');
    const available = await runDrillTask(task('status', restored), f.deps);
    at('2026-02-01T05:01:00.000Z');
    const verified = await runDrillTask(task('verify-volumes', available), f.deps);
    const cleaned = await runDrillTask(task('cleanup', verified), f.deps);
    const recorded = await runDrillTask(task('record', cleaned), f.deps);

    // Assert
    expect(verified.ebs?.verification).toMatchObject({ outcome: 'passed', output: 'clean' });
    expect(verifier.log.filter((l) => l.startsWith('launch'))).toEqual(['launch eu-west-1a t4g.small']);
    expect(verifier.log.filter((l) => l.startsWith('attach'))).toHaveLength(2);
    expect(verifier.live.size).toBe(0);
    expect(f.ebs.live.size).toBe(0);
    expect(parts.map((p) => f.vault.permitted.get(p)?.has(HUB))).toEqual([false, false]);
    expect(recorded.result).toMatchObject({ passed: true, outcome: 'passed' });
  });

  it('an execution stopped outside the drill has its volumes deleted and its shares taken back at once (only its own)', async () => {
    // Prepare: this drill restored; another drill's share of the same part is recorded too
    const f = fakeDeps();
    await runDrillTask(task('restore', await selected(f)), f.deps);
    await f.vault.shares.record({
      kind: 'ebs',
      copyId: parts[0]!,
      drillId: 'another-drill',
      vaultAccount: VAULT,
      region: REGION,
      sharedAt: '2026-02-01T04:59:00.000Z',
    });
    const stopped = drillExecutionEnded(REGION, HUB, EXECUTION.name);

    // Act
    await runDrillControl(stopped, f.deps);

    // Assert: the part the other drill recorded stays shared for it; this drill's other part is taken back.
    expect(f.ebs.live.size).toBe(0);
    expect(parts.map((p) => f.vault.permitted.get(p)?.has(HUB))).toEqual([true, false]);
    expect([...f.vault.shares.shares.values()].map((x) => x.drillId)).toEqual(['another-drill']);
    const lines = f.notifier.sent[0]!.lines.join('\n');
    expect(lines).toContain(`unshare vault copy ${parts[0]} (vault ${VAULT}) skipped`);
    expect(lines).toContain(`unshare vault copy ${parts[1]} (vault ${VAULT}) done`);
    expect(f.notifier.sent[0]?.severity).toBe('critical');
  });

  it('two drills of one instance share the same vault parts: the first cleanup keeps them shared while the other drill’s records stand', async () => {
    // Prepare: this drill restored; another drill of the same instance (a manual run beside the schedule) picked
    // the same set and shared its parts too, and is still restoring from them.
    const f = fakeDeps();
    const restored = await runDrillTask(task('restore', await selected(f)), f.deps);
    for (const copyId of parts) {
      await f.vault.shares.record({
        kind: 'ebs',
        copyId,
        drillId: 'another-drill',
        vaultAccount: VAULT,
        region: REGION,
        sharedAt: '2026-02-01T05:00:01.000Z',
      });
      await f.vault.vault.share({ kind: 'ebs', id: copyId }, HUB);
    }

    // Act
    const cleaned = await caught('cleanup', restored, f.deps);

    // Assert: this drill's volumes and records are gone; the other drill can still create its volumes.
    expect(f.ebs.live.size).toBe(0);
    expect(parts.map((p) => f.vault.permitted.get(p)?.has(HUB))).toEqual([true, true]);
    expect([...f.vault.shares.shares.values()].map((x) => x.drillId)).toEqual([
      'another-drill',
      'another-drill',
    ]);
    expect(cleaned.error).toBeUndefined();
    expect(cleaned.ebs?.cleanup?.filter((o) => o.action === 'unshare')).toEqual(
      parts.map((p) => ({
        resource: `vault snapshot ${p} (vault ${VAULT})`,
        action: 'unshare',
        status: 'skipped',
        reason: 'still shared for drill another-drill: its own cleanup (or the janitor) takes the share back',
      })),
    );
  });

  it('a part shared with the hub by hand before the drill is neither recorded nor taken back; the other part is', async () => {
    // Prepare: an administrator let the hub create volumes from the first part, to restore it by hand.
    const f = fakeDeps();
    await f.vault.vault.share({ kind: 'ebs', id: parts[0]! }, HUB);
    f.vault.log.length = 0;
    const s = await selected(f);

    // Act
    const restored = await runDrillTask(task('restore', s), f.deps);
    const cleaned = await caught('cleanup', restored, f.deps);

    // Assert
    expect(f.vault.log.filter((l) => !l.startsWith('sets'))).toEqual([
      `record ebs ${parts[1]}`,
      `share ${parts[1]} ${HUB}`,
      `unshare ${parts[1]} ${HUB}`,
      `forget ebs ${parts[1]}`,
    ]);
    expect(parts.map((p) => f.vault.permitted.get(p)?.has(HUB))).toEqual([true, false]);
    expect(f.ebs.live.size).toBe(0);
    expect(cleaned.error).toBeUndefined();
    expect(cleaned.ebs?.cleanup?.find((o) => o.resource.includes(parts[0]!))).toMatchObject({
      status: 'skipped',
    });
  });

  it('the janitor unshares a part a dead drill left shared (recorded) once old, and forgets it; dry run only lists it', async () => {
    // Prepare: a drill that died after its shares (volumes already gone)
    const f = fakeDeps();
    await runDrillTask(task('restore', await selected(f)), f.deps);
    for (const v of [...f.ebs.live.keys()]) await f.ebs.volumes.remove(v);
    at('2026-02-01T13:00:00.000Z');
    const janitor = (dryRun: boolean) => ({ ...f.deps, dryRun, volumes: f.ebs.volumes, vault: f.vault });

    // Act
    const dry = await runJanitor(janitor(true));
    const wet = await runJanitor(janitor(false));

    // Assert
    expect(dry.outcomes.map((o) => [o.action, o.status])).toEqual([
      ['unshare', 'planned'],
      ['unshare', 'planned'],
    ]);
    expect(wet.outcomes.map((o) => [o.resource, o.status])).toEqual(
      parts.map((p) => [`vault copy ${p} (vault ${VAULT})`, 'done']),
    );
    expect(parts.map((p) => f.vault.permitted.get(p)?.has(HUB))).toEqual([false, false]);
    expect(f.vault.shares.shares.size).toBe(0);
  });
});
