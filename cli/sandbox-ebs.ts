import '../infra/node20-compat.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AslDefinition, type LocalDrillEvent, runDrillLocally } from '../infra/local-drill.js';
import { snapshotId as scheduledSnapshotId } from '../shared/backup/ids.js';
import { parseConfig, type StewardConfig } from '../shared/config/schema.js';
import { StewardError } from '../shared/errors.js';
import { ebsVolumeLines } from '../shared/drill/ebs-verdict.js';
import type { EbsDrillDeps } from '../shared/drill/ebs-tasks.js';
import { findE2fsTool, localEbsEstate, type LocalVolumeSpec } from '../shared/drill/local/ebs-drill.js';
import { LOCAL } from '../shared/drill/local/local-provider.js';
import { noDatabases } from '../shared/drill/local/redis-drill.js';
import type { DrillDeps } from '../shared/drill/tasks.js';
import { type Notification, renderNotification } from '../shared/notify/notifier.js';
import { LOCAL_ROOT } from '../shared/report/local-history.js';
import type { BaseDeps } from '../shared/runtime.js';
import { UsageError } from './base.js';
import type { Flags } from './flags.js';
import {
  fileReports,
  localControlTasks,
  localSignal,
  memoryTokens,
  sandboxExecutionName,
  sandboxExit,
  sandboxOutcome,
  sandboxRun,
  seconds,
  stateLog,
} from './sandbox-ports.js';
import { synthesizeDrillOnce } from './synth-drill.js';

/** Ways `--break` damages the instance's backup, each caught by a different part of the drill. */
export const EBS_BREAKS = {
  corrupt: { what: "zeroes the data volume's superblock magic in the snapshot (a corrupted copy)" },
  'missing-file': { what: 'the data volume lacks /app/last-write when the set is taken' },
  stale: { what: 'the newest snapshot set was taken two days ago (RPO breach)' },
} as const;
export type EbsBreakKind = keyof typeof EBS_BREAKS;

/** The sandbox's EC2 instance (a valid id, so the config validates as it would for AWS). */
export const EBS_SANDBOX_INSTANCE = 'i-05a4db0c0ffee0001';
const DATA = 'vol-0da7a000000000001';
const LOGS = 'vol-0109000000000002';
const STALE_MS = 2 * 86_400_000;

/**
 * The read-only check the verifier runs on the restored volumes (through steward's Command document, as on
 * AWS): both file systems clean, and the application's newest write readable on the data volume. On a
 * verifier instance the volumes are /dev/sdf and /dev/sdg; locally `DEV` names the folder of their links.
 */
export const EBS_SANDBOX_CHECK =
  'fsck.ext4 -n "${DEV:-/dev}/sdf" && fsck.ext4 -n "${DEV:-/dev}/sdg" && ' +
  "debugfs -R 'cat /app/last-write' \"${DEV:-/dev}/sdf\" 2>/dev/null | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'";

/** The stage the sandbox synthesizes: one instance in `drill.volumes`, with a verifier. */
export const ebsSandboxConfigInput = () => ({
  stage: 'dev',
  region: 'eu-west-1',
  drill: {
    enabled: true,
    // The sandbox has no VPC: the verifier's Systems Manager endpoints are taken as deployed with the stack
    // (`always-on`), so the definition has no endpoint states to fake (per-drill endpoints are proven by
    // test/infra/ebs-drill.test.ts's local run of the default definition).
    endpoints: { mode: 'always-on' },
    volumes: {
      [EBS_SANDBOX_INSTANCE]: {
        availabilityZone: 'eu-west-1a',
        verify: { command: EBS_SANDBOX_CHECK, timeoutSeconds: 60 },
      },
    },
  },
});

// One synthesis per process: the break tests run the same stage several times.
const definitionFor = (signal: AbortSignal): Promise<AslDefinition> =>
  synthesizeDrillOnce(ebsSandboxConfigInput(), signal);

/** The instance's two volumes: application data (with its newest write) and logs. */
const volumesOf = (now: Date, breakKind: EbsBreakKind | undefined): LocalVolumeSpec[] => {
  const orders = Array.from({ length: 200 }, (_, i) =>
    JSON.stringify({
      id: i + 1,
      amount: ((i * 37) % 1000) / 10,
      at: new Date(now.getTime() - (200 - i) * 60_000),
    }),
  ).join('\n');
  return [
    {
      volumeId: DATA,
      label: 'data',
      sizeMiB: 8,
      files: {
        'app/orders.jsonl': `${orders}\n`,
        ...(breakKind === 'missing-file' ? {} : { 'app/last-write': `${now.toISOString()}\n` }),
      },
    },
    { volumeId: LOGS, label: 'logs', sizeMiB: 8, files: { 'log/app.log': `${now.toISOString()} started\n` } },
  ];
};

/**
 * `npm start -- --engine ebs`: an EBS restore drill with no AWS. An "instance" has two volumes (ext4 image
 * files); a snapshot set is a copy of each; the drill state machine CDK synthesizes restores every volume of
 * the newest set (a copy again), attaches them to a local verifier and runs the read-only check (`fsck -n`,
 * and the newest write read with debugfs) through steward's Command document, records RTO/RPO and deletes
 * what it made. Every file is removed on every path, Ctrl-C included.
 */
export const sandboxEbs = async (flags: Flags, out: (s: string) => void): Promise<number> => {
  const breakKind = flags.break as EbsBreakKind | undefined;
  if (breakKind !== undefined && !(breakKind in EBS_BREAKS)) {
    throw new UsageError(
      `--break with --engine ebs takes one of ${Object.keys(EBS_BREAKS).join(', ')}, got "${breakKind}"`,
    );
  }
  if (flags.size !== undefined) throw new UsageError('--size does not apply to --engine ebs');
  const missing = (['mkfs.ext4', 'fsck.ext4', 'debugfs'] as const).filter((t) => !findE2fsTool(t));
  if (missing.length) {
    throw new UsageError(
      `the EBS sandbox needs e2fsprogs (${missing.join(', ')} not found): install it (Debian/Ubuntu: apt-get install -y e2fsprogs; macOS: brew install e2fsprogs)`,
    );
  }
  const historyRoot = resolve(flags.history ?? LOCAL_ROOT);
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'steward-ebs-'));
  const run = sandboxRun(flags, out, {
    what: 'every temp dir',
    again: 'removing every temp dir',
    atOnce: () => rmSync(dir, { recursive: true, force: true }),
  });
  const { say, step, abort } = run;

  const estate = localEbsEstate(dir, { now: () => new Date() });
  try {
    say('steward sandbox: an EBS restore drill on this machine, no AWS (ext4 image files, e2fsprogs)\n');
    // The synthesis (about 5 s of CPU, in a child process) starts while the volumes are made.
    const synthesis = definitionFor(abort.signal);
    const now = new Date();
    const takenAt = breakKind === 'stale' ? new Date(now.getTime() - STALE_MS) : now;
    await step(
      `made ${EBS_SANDBOX_INSTANCE}'s volumes: ${DATA} (data), ${LOGS} (logs), ext4 by mkfs.ext4 -d`,
      () => estate.createVolumes(volumesOf(takenAt, breakKind)),
    );
    if (breakKind === 'missing-file') say(`  ✓ --break missing-file: ${EBS_BREAKS['missing-file'].what}`);
    const setId = scheduledSnapshotId(EBS_SANDBOX_INSTANCE, takenAt, 'sched');
    const set = await step(
      'took a snapshot set (a copy of each volume, tagged as the backup function tags it)',
      () => estate.takeSet(EBS_SANDBOX_INSTANCE, setId, takenAt),
    );
    say(`    ${set.id}: ${set.parts!.map((p) => `${p.id} of ${p.volumeId}`).join(', ')}`);
    if (breakKind === 'stale') say(`  ✓ --break stale: ${EBS_BREAKS.stale.what}`);
    if (breakKind === 'corrupt') {
      await step(`--break corrupt: ${EBS_BREAKS.corrupt.what}`, () => estate.corrupt(set.parts![0]!.id));
    }
    const configInput = ebsSandboxConfigInput();
    const config: StewardConfig = parseConfig(configInput, 'sandbox');
    const asl = await step('synthesized the drill state machine (the CDK definition)', () => synthesis);
    const notifier = {
      send: async (n: Notification) =>
        say(`    ✉ ${n.severity} topic: ${renderNotification(n, config.stage).subject}`),
    };
    const base: BaseDeps = { config, dryRun: false, notifier, now: () => new Date() };
    const ebs: EbsDrillDeps = {
      sets: estate.sets,
      volumes: estate.volumes,
      availabilityZone: 'eu-west-1a',
      verifier: {
        verifier: estate.verifier,
        runner: estate.runner,
        now: () => new Date(),
        sleep: (ms) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 50))),
      },
    };
    const { signal, settled } = localSignal();
    const reports = fileReports(join(historyRoot, 'reports'));
    const deps: DrillDeps = {
      ...base,
      restore: noDatabases(LOCAL, 'EBS'),
      ebs,
      tokens: memoryTokens(),
      signal,
      reports,
      network: {},
    };
    say('\n  drill (Step Functions, local; the Wait state of pollSeconds shortened to 0.1 s):');
    const events: LocalDrillEvent[] = [];
    const control = localControlTasks(deps, settled);
    const result = await runDrillLocally({
      definition: asl,
      input: { database: EBS_SANDBOX_INSTANCE },
      executionName: sandboxExecutionName(new Date()),
      pollMs: 100,
      signal: abort.signal,
      onEvent: stateLog(events, say),
      tasks: async (event) => {
        if (event.task === 'verify') throw new StewardError('an EBS drill reached the database verifier');
        return control.run(event);
      },
    });
    const state = control.final(result);
    const { report: doc, reportFile, json } = sandboxOutcome('ebs', result, state, events, reports.written);
    const leftovers = estate.leftovers();
    if (flags.json) {
      out(json());
    } else {
      const check = state.ebs?.verifier?.check;
      say('');
      say(doc.summary);
      for (const l of ebsVolumeLines(state)) say(l);
      if (check) {
        say(`Check:     ${check.status} in ${check.seconds} s: ${EBS_SANDBOX_CHECK}`);
        const shown = [
          ...(check.output ?? '').split('\n').slice(-6),
          ...(check.detail ? [check.detail] : []),
        ];
        for (const l of shown.filter(Boolean)) say(`  | ${l}`);
      }
      for (const r of doc.reasons ?? []) say(`✗ ${r}`);
      say(`\nReport: ${reportFile ? pathToFileURL(reportFile).href : '(not written)'}`);
      say(
        `Cleanup: drill volumes ${doc.cleanup?.status ?? 'not reached'}; ${leftovers.length} restored volumes or verifiers left`,
      );
      say(`Total: ${seconds(Date.now() - t0)}`);
    }
    return sandboxExit(leftovers, run.stopped(), result.status === 'SUCCEEDED' && doc.passed);
  } catch (e) {
    return run.failed(e);
  } finally {
    abort.abort();
    await estate.dispose();
    rmSync(dir, { recursive: true, force: true });
    run.close();
  }
};
