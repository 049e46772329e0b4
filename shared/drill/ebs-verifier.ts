import type { StepResult, StepRunner } from '../backup/consistency.js';
import { stepWaitSeconds } from '../backup/consistency-document.js';
import type { EbsVerify } from '../config/ebs-verifier.js';
import { errorMessage } from '../errors.js';
import type { Outcome } from '../model.js';
import { failedOutcome } from '../outcomes.js';
import { Tag, type Tags } from '../tags.js';
import type { CheckRecord, DeviceAssignment, EbsVerifyReport } from './ebs-progress.js';
import type { DrillResource } from './ports.js';
import { drEbsVerifierParameter } from './stage-drills.js';

export { drEbsVerifierParameter };

export type { CheckRecord, DeviceAssignment, EbsVerifyReport } from './ebs-progress.js';

/**
 * The EBS drill's optional verifier: launch a short-lived instance in the drill network's Availability Zone,
 * wait (bounded) until it registers with Systems Manager, attach the restored volumes, run the configured
 * check through the steward Command document's `check` phase, and terminate the instance on every path,
 * waiting until the volumes are detached so the drill can delete them. Pure orchestration over the
 * EbsVerifierPort (shared/aws/ebs-verifier.ts) and the StepRunner (shared/aws/ssm-commands.ts).
 */

/** `steward:kind` of a verifier instance: the janitor and the adapter's guard know it by this. */
export const VERIFIER_KIND = 'ebs-verifier';

/** The tag on the DR region's drill VPC, subnets and security groups: the drill role's grants there name it. */
export const DR_DRILL_NETWORK_TAG = 'steward:drill-network';

/** The DR verifier instances' role (IAM is global: a fixed name lets the stage's drill role pass it). */
export const drEbsVerifierRoleName = (stage: string, drRegion: string): string =>
  `steward-${stage}-ebs-verifier-${drRegion}`;

/** A verifier instance as steward sees it. */
export interface VerifierInstance {
  instanceId: string;
  /** EC2's instance state: pending, running, shutting-down, terminated, stopping, stopped. */
  state: string;
  launchedAt?: string;
  tags: Tags;
}

export interface LaunchRequest {
  availabilityZone: string;
  instanceType: string;
  /** RunInstances' idempotency token: a retried task gets the instance it already launched. */
  clientToken: string;
  tags: Tags;
  /** The instance shuts itself down (and so terminates) after this long, whatever steward does. */
  lifetimeMinutes: number;
}

/** How a volume is attached to the verifier, as EC2 reports it; `detached` when it is not. */
export type AttachmentState = 'attaching' | 'attached' | 'detaching' | 'detached' | 'busy';

/** Port: verifier instances and volume attachments, in one region. */
export interface EbsVerifierPort {
  readonly region: string;
  /** Launch one verifier in the drill subnet of `availabilityZone` (no public address, no inbound). */
  launch(r: LaunchRequest): Promise<VerifierInstance>;
  /** True once the instance's SSM Agent is registered and online. */
  registered(instanceId: string): Promise<boolean>;
  attach(volumeId: string, instanceId: string, device: string): Promise<void>;
  /** Each volume's attachment to `instanceId` (a volume attached elsewhere or nowhere is `detached`). */
  attachments(volumeIds: readonly string[], instanceId: string): Promise<Record<string, AttachmentState>>;
  detach(volumeId: string, instanceId: string, force: boolean): Promise<void>;
  /** Terminates only a steward verifier (tagged `steward:drill`, `steward:managed`, kind); `gone` if none. */
  terminate(instanceId: string): Promise<'terminated' | 'gone'>;
  /** Every verifier instance not yet terminated (what the janitor sweeps). */
  listVerifiers(): Promise<VerifierInstance[]>;
}

export interface EbsVerifierDeps {
  verifier: EbsVerifierPort;
  runner: StepRunner;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

/** One restored volume to attach: the drill's volume and the source volume and device it restores. */
export interface VerifyVolume {
  volumeId: string;
  sourceVolumeId: string;
  /** The device name on the source instance, e.g. /dev/sdf; kept on the verifier when it is free. */
  device?: string;
}

export interface VerifyRequest {
  drillId: string;
  /** The zone the volumes were restored in (a volume attaches only to an instance in its zone). */
  availabilityZone: string;
  volumes: readonly VerifyVolume[];
}

// AttachVolume device names for Linux: /dev/sd[f-p] (EC2 User Guide, "Device names on Linux instances").
// On Nitro instances the volumes appear as NVMe devices; Amazon Linux's udev rules link the requested
// name (/dev/sdf, and /dev/sdf1 for its partitions) to them, so the check can use the names the report lists.
const LETTERS = 'fghijklmnop';
const FREE_NAME = /^\/dev\/(?:sd|xvd)([f-p])$/;

/** Devices on the verifier: a source device in /dev/sd[f-p] (or xvd) is kept, others take the next free letter. */
export const assignDevices = (volumes: readonly VerifyVolume[]): DeviceAssignment[] | { error: string } => {
  if (volumes.length > LETTERS.length)
    return {
      error: `${volumes.length} volumes: a verifier attaches at most ${LETTERS.length} (/dev/sdf to /dev/sdp)`,
    };
  const used = new Set<string>();
  const kept = volumes.map((v) => {
    const letter = v.device && FREE_NAME.exec(v.device)?.[1];
    if (!letter || used.has(letter)) return undefined;
    used.add(letter);
    return v.device!;
  });
  const free = [...LETTERS].filter((l) => !used.has(l));
  return volumes.map((v, i) => ({
    volumeId: v.volumeId,
    sourceVolumeId: v.sourceVolumeId,
    device: kept[i] ?? `/dev/sd${free.shift()!}`,
  }));
};

/** Tags of a verifier instance (and its root volume): the drill's, steward's, and its kind. */
export const verifierTags = (drillId: string): Tags => ({
  [Tag.drill]: drillId,
  [Tag.managed]: 'true',
  [Tag.createdBy]: 'drill',
  [Tag.kind]: VERIFIER_KIND,
  Name: `steward-verifier-${drillId}`.slice(0, 255),
});

/** True when the tags say steward launched this instance as a drill verifier. */
export const isVerifier = (tags: Tags): boolean =>
  Boolean(tags[Tag.drill]) && tags[Tag.managed] === 'true' && tags[Tag.kind] === VERIFIER_KIND;

// RunInstances' ClientToken: up to 64 ASCII characters; the drill decides it.
/** The deterministic idempotency token of a drill's verifier. */
export const verifierToken = (drillId: string): string => `${drillId}-verifier`.slice(-64);

// The document's RunId: letters, digits and hyphens (RUN_ID_PATTERN), at most 64.
/** The check's run id on the host, from the drill id. */
export const checkRunId = (drillId: string): string =>
  `verify-${drillId}`.replace(/[^A-Za-z0-9-]/g, '-').slice(-64);

// Bounds of the steps that are not configured: attaching takes seconds; terminating a small instance (which
// detaches its volumes) about a minute.
const ATTACH_SECONDS = 60;
const DETACH_SECONDS = 120;
const REGISTER_POLL_MS = 10_000;
const ATTACH_POLL_MS = 3_000;
const DETACH_POLL_MS = 5_000;

/** What verifySeconds adds to the configured registration and check timeouts. */
export const VERIFY_OVERHEAD_SECONDS = ATTACH_SECONDS + stepWaitSeconds(0) + 2 * DETACH_SECONDS;

/** The longest verifyEbsSet takes with these settings (give its Lambda at least this). */
export const verifySeconds = (v: Pick<EbsVerify, 'registrationSeconds' | 'timeoutSeconds'>): number =>
  v.registrationSeconds + v.timeoutSeconds + VERIFY_OVERHEAD_SECONDS;

/**
 * The instance's own bound: it shuts down (and terminates) after this many minutes even if steward never
 * comes back (its Lambda timed out or crashed): steward's longest run and five minutes.
 */
export const verifierLifetimeMinutes = (v: EbsVerify): number => Math.ceil(verifySeconds(v) / 60) + 5;

const seconds = (from: Date, to: Date) => Math.round((to.getTime() - from.getTime()) / 1000);

/**
 * Attach the restored `volumes` to a new verifier instance and run `verify.command` on it through Systems
 * Manager, bounded at every step; terminate the instance and wait until the volumes are detached whatever
 * happened. Never throws: a step that fails is `error` in the report, a check that fails is `failed`, a
 * cleanup that fails is a failed outcome in `cleanup` (the janitor and the instance's own shutdown are the
 * backstops). The volumes stay the caller's to delete.
 */
export const verifyEbsSet = async (
  deps: EbsVerifierDeps,
  req: VerifyRequest,
  verify: EbsVerify,
): Promise<EbsVerifyReport> => {
  const startedAt = deps.now().toISOString();
  const report: EbsVerifyReport = {
    status: 'error',
    startedAt,
    finishedAt: startedAt,
    instanceType: verify.instanceType,
    devices: [],
    command: verify.command,
    cleanup: [],
    problems: [],
  };
  const devices = assignDevices(req.volumes);
  if ('error' in devices) {
    report.problems.push(`not verified: ${devices.error}`);
    return report;
  }
  report.devices = devices;
  const attached: string[] = [];
  try {
    const launched = deps.now();
    const instance = await deps.verifier.launch({
      availabilityZone: req.availabilityZone,
      instanceType: verify.instanceType,
      clientToken: verifierToken(req.drillId),
      tags: verifierTags(req.drillId),
      lifetimeMinutes: verifierLifetimeMinutes(verify),
    });
    report.instanceId = instance.instanceId;
    if (instance.state === 'shutting-down' || instance.state === 'terminated')
      throw new Error(
        `the drill's verifier ${instance.instanceId} is already ${instance.state} (an earlier attempt of this drill ended it)`,
      );
    const online = await waitRegistered(deps, instance.instanceId, launched, verify.registrationSeconds);
    if (!online)
      throw new Error(`not registered with Systems Manager within ${verify.registrationSeconds} s`);
    report.registrationSeconds = seconds(launched, deps.now());

    const attachStart = deps.now();
    for (const d of devices) {
      await deps.verifier.attach(d.volumeId, instance.instanceId, d.device);
      attached.push(d.volumeId);
    }
    await waitAttached(deps, instance.instanceId, attached, attachStart);
    report.attachSeconds = seconds(attachStart, deps.now());

    report.check = await runCheck(deps, req, verify, instance.instanceId);
    report.status =
      report.check.status === 'success' ? 'passed' : (CHECK_VERDICT[report.check.status] ?? 'error');
    if (report.status !== 'passed')
      report.problems.push(
        `check ${report.check.status}${report.check.detail ? `: ${report.check.detail}` : ''}`,
      );
  } catch (e) {
    report.status = 'error';
    report.problems.push(`not verified: ${errorMessage(e)}`);
  } finally {
    report.finishedAt = deps.now().toISOString();
    if (report.instanceId) report.cleanup = await tearDown(deps, report.instanceId, attached);
  }
  for (const o of report.cleanup)
    if (o.status === 'failed') report.problems.push(`cleanup: ${o.action} ${o.resource} failed: ${o.error}`);
  return report;
};

// A check that ran and did not exit 0, or ran out of its time, is a verdict on the restored data; one that
// never reached the instance (not delivered, cancelled) says nothing about it.
const CHECK_VERDICT: Partial<Record<CheckRecord['status'], EbsVerifyReport['status']>> = {
  failed: 'failed',
  'timed-out': 'failed',
};

const waitRegistered = async (
  deps: EbsVerifierDeps,
  instanceId: string,
  launched: Date,
  limitSeconds: number,
): Promise<boolean> => {
  const until = launched.getTime() + limitSeconds * 1000;
  for (;;) {
    if (await deps.verifier.registered(instanceId)) return true;
    if (deps.now().getTime() >= until) return false;
    await deps.sleep(REGISTER_POLL_MS);
  }
};

const waitAttached = async (
  deps: EbsVerifierDeps,
  instanceId: string,
  volumeIds: string[],
  started: Date,
): Promise<void> => {
  const until = started.getTime() + ATTACH_SECONDS * 1000;
  for (;;) {
    const states = await deps.verifier.attachments(volumeIds, instanceId);
    const pending = volumeIds.filter((id) => states[id] !== 'attached');
    if (!pending.length) return;
    const dead = pending.filter((id) => states[id] !== 'attaching');
    if (dead.length) throw new Error(`attach failed: ${dead.map((id) => `${id} ${states[id]}`).join(', ')}`);
    if (deps.now().getTime() >= until)
      throw new Error(`not attached within ${ATTACH_SECONDS} s: ${pending.join(', ')}`);
    await deps.sleep(ATTACH_POLL_MS);
  }
};

const runCheck = async (
  deps: EbsVerifierDeps,
  req: VerifyRequest,
  verify: EbsVerify,
  instanceId: string,
): Promise<CheckRecord> => {
  const started = deps.now();
  let result: StepResult | { status: 'error'; detail: string };
  try {
    result = await deps.runner.run({
      instanceId,
      phase: 'check',
      command: verify.command,
      runId: checkRunId(req.drillId),
      timeoutSeconds: verify.timeoutSeconds,
    });
  } catch (e) {
    result = { status: 'error', detail: `check could not be sent or read: ${errorMessage(e)}` };
  }
  return { ...result, seconds: seconds(started, deps.now()) };
};

/** Terminate the verifier, then wait (bounded) until every attached volume is detached; force what is not. */
const tearDown = async (
  deps: EbsVerifierDeps,
  instanceId: string,
  volumeIds: string[],
): Promise<Outcome[]> => {
  const outcomes: Outcome[] = [];
  const base = { resource: `instance ${instanceId}`, action: 'terminate' };
  try {
    const r = await deps.verifier.terminate(instanceId);
    outcomes.push({ ...base, status: r === 'terminated' ? 'done' : 'already-done' });
  } catch (e) {
    outcomes.push(failedOutcome(base, e));
  }
  if (!volumeIds.length) return outcomes;
  const waitDetached = async (limitSeconds: number): Promise<string[]> => {
    const until = deps.now().getTime() + limitSeconds * 1000;
    for (;;) {
      const states = await deps.verifier.attachments(volumeIds, instanceId);
      const still = volumeIds.filter((id) => states[id] !== 'detached');
      if (!still.length || deps.now().getTime() >= until) return still;
      await deps.sleep(DETACH_POLL_MS);
    }
  };
  try {
    // Terminating detaches every volume; a volume still attached after that (the instance stuck, or not
    // terminated) is detached by force: its data is a throwaway copy.
    const stuck = await waitDetached(DETACH_SECONDS);
    for (const id of stuck) {
      const b = { resource: `volume ${id}`, action: 'detach' };
      try {
        await deps.verifier.detach(id, instanceId, true);
      } catch (e) {
        outcomes.push(failedOutcome(b, e));
      }
    }
    const left = stuck.length ? await waitDetached(DETACH_SECONDS) : [];
    for (const id of volumeIds)
      if (!outcomes.some((o) => o.resource === `volume ${id}`))
        outcomes.push(
          left.includes(id)
            ? failedOutcome(
                { resource: `volume ${id}`, action: 'detach' },
                new Error(`still attached to ${instanceId} after ${2 * DETACH_SECONDS} s`),
              )
            : { resource: `volume ${id}`, action: 'detach', status: 'done' },
        );
  } catch (e) {
    outcomes.push(failedOutcome({ resource: `volumes ${volumeIds.join(', ')}`, action: 'detach' }, e));
  }
  return outcomes;
};

/** The drill's verdict on a verification: a check that could not run is inconclusive, not failed. */
export const verificationOutcome = (
  r: EbsVerifyReport,
): {
  outcome: 'passed' | 'failed' | 'inconclusive';
  startedAt: string;
  finishedAt: string;
  summary: string;
  output?: string;
} => {
  const devices = r.devices.map((d) => `${d.sourceVolumeId} at ${d.device}`).join(', ');
  const summary =
    r.status === 'passed'
      ? `check passed in ${r.check?.seconds ?? 0} s on ${r.instanceId} (${r.instanceType}; ${devices})`
      : r.problems.join('; ');
  return {
    outcome: r.status === 'error' ? 'inconclusive' : r.status,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    summary,
    ...(r.check?.output !== undefined && { output: r.check.output }),
  };
};

/** A verifier instance as the janitor sees it. */
export type VerifierResource = Omit<DrillResource, 'kind'> & { kind: 'ebs-verifier' };

/** Verifier instances as the janitor's resources; one shutting down is `deleting` (skipped). */
export const verifierResources = (instances: readonly VerifierInstance[]): VerifierResource[] =>
  instances.map((i) => ({
    kind: 'ebs-verifier' as const,
    id: i.instanceId,
    drillId: i.tags[Tag.drill] ?? '',
    ...(i.launchedAt && { createdAt: i.launchedAt }),
    status: i.state === 'shutting-down' ? 'deleting' : i.state,
  }));
