import type { EbsDrillTarget, SnapshotSelector, StewardConfig } from '../config/schema.js';
import {
  ConfigError,
  errorMessage,
  EventShapeError,
  failureOf,
  PartialFailureError,
  StewardError,
} from '../errors.js';
import type { Outcome, Snapshot } from '../model.js';
import { logger } from '../observability.js';
import { failedOutcome } from '../outcomes.js';
import type { BaseDeps } from '../runtime.js';
import { Tag } from '../tags.js';
import {
  type DrillVolume,
  type EbsDrillPort,
  FAST_RESTORE_TAG,
  planVolumes,
  type RestoredVolume,
  type SnapshotSetRef,
} from './ebs.js';
import type { EbsDrillProgress } from './ebs-progress.js';
import {
  type EbsVerifierDeps,
  type EbsVerifierPort,
  verificationOutcome,
  verifyEbsSet,
} from './ebs-verifier.js';
import { oldestFirst, pickAmong, SnapshotSelectionError, snapshotTime as time } from './pick.js';
import type { DrillState } from './state.js';
import { copiedFromOf, shareVaultParts, unshareVaultParts, vaultSetsOf } from './ebs-vault-tasks.js';
import type { VaultDrillDeps } from './vault-tasks.js';
import { drillsVolumesFromDr, verifiesVolumesInDr, volumeTargetOf } from './stage-drills.js';
import { type FastRestoreLedger, listEach } from './ports.js';
import {
  addFastRestores,
  type FastRestoresByZone,
  listFastRestores,
  recordFastRestores,
  turnOffFastRestores,
} from './fast-restores.js';

export { drillsVolumesFromDr, verifiesVolumesInDr, volumeTargetOf };

export type { EbsDrillProgress, EbsVerification } from './ebs-progress.js';

/**
 * The EBS drill as tasks of the drill state machine: `select` picks a complete snapshot set of the instance
 * (or volume), `restore` creates one volume per member in the drill zone, `status` (after a Wait state, every
 * `pollSeconds`) watches them until all are available or the bound passes, `cleanup` deletes every volume the
 * drill created (found by its tag too, so a restore that failed half-way leaves nothing), and the verdict
 * (./ebs-verdict.ts) records RTO per volume and for the set, and RPO from the set's time.
 */

/** What the EBS drill tasks get: the EC2 wiring, and the vault's for a drill from the vault. */
export type EbsTaskDeps = BaseDeps & { ebs?: EbsDrillDeps | undefined; vault?: VaultDrillDeps | undefined };

/** Snapshot sets of a source (an instance or a volume), as retention and backups see them. */
export interface SnapshotSetLister {
  /** Every steward set whose `steward:source` is `sourceId`, any state. */
  setsOf(sourceId: string): Promise<Snapshot[]>;
}

/** What the EBS drill tasks need: the sets, the volumes, and the drill network's default zone. */
export interface EbsDrillDeps {
  sets: SnapshotSetLister;
  volumes: EbsDrillPort;
  /** The drill VPC's (first) Availability Zone: where a verifier instance could attach the volumes. */
  availabilityZone?: string;
  /** The verifier (instances in the drill network, the check through SSM): when a target configures `verify`. */
  verifier?: EbsVerifierDeps;
  /** The DR region's copies of the sets and its volumes: when a target drills `from: dr`. */
  dr?: EbsDrDrillDeps;
  /**
   * Where each fast snapshot restore a drill turns on is recorded before it is turned on, and forgotten once it
   * is off (the state table): Cleanup, the execution-ended rule and the janitor turn off what it names. Absent (a
   * local run), none is recorded: then only the drill's state and its volumes' tags say what it turned on.
   */
  fastRestores?: FastRestoreLedger;
}

/** A drill from the DR copies: the copied sets and the volumes in `dr.region`, and where to restore there. */
export interface EbsDrDrillDeps {
  sets: SnapshotSetLister;
  volumes: EbsDrillPort;
  /** The zone to restore into when the target names none (the DR region's first available zone). */
  availabilityZone: () => Promise<string>;
  /**
   * The verifier in `dr.region` (a `from: dr` target configures `verify`): instances in the DR stack's drill
   * network, the check through its Command document. Its launch reads the network the DR stack publishes.
   */
  verifier?: EbsVerifierDeps;
  /**
   * The DR verifier network's zone (its first subnet's), where a verifying drill restores by default: reading it
   * at select also fails the drill early, naming the parameter and the stack, when the DR stack lacks it.
   */
  verifierZone?: () => Promise<string>;
}

/** The volumes of a drill's region: the stage's, or the DR region's for a drill from the DR copies. */
const volumesIn = (ebs: EbsDrillDeps, region: string | undefined): EbsDrillPort => {
  if (region === undefined || region === ebs.volumes.region) return ebs.volumes;
  if (ebs.dr?.volumes.region === region) return ebs.dr.volumes;
  throw new ConfigError(`No EBS drill wiring for ${region}`, [
    `drill.volumes: a drill from the DR copies restores in ${region}; this function has no EC2 wiring there`,
  ]);
};

/**
 * Every region's drill volumes as one port for the janitor and the execution-ended sweep: listed in the stage
 * region and (with DR drills) in the DR region; a delete goes to the region that listed the volume, or is
 * tried in each until one finds it; fast snapshot restore is turned off in the region of its zone.
 */
export const allDrillVolumes = (
  ebs: EbsDrillDeps,
): Pick<EbsDrillPort, 'listDrillVolumes' | 'remove' | 'disableFastRestore'> => {
  const ports = [ebs.volumes, ...(ebs.dr ? [ebs.dr.volumes] : [])];
  if (ports.length === 1) return ebs.volumes;
  const where = new Map<string, EbsDrillPort>();
  return {
    // A zone's name starts with its region's (eu-west-1b, us-west-2-lax-1a).
    disableFastRestore: (snapshotIds, zone) =>
      (ports.find((p) => zone.startsWith(p.region)) ?? ebs.volumes).disableFastRestore(snapshotIds, zone),
    // A region that cannot be listed does not hide the other's volumes (PartialListingError).
    listDrillVolumes: () =>
      listEach(
        'EBS drill volumes',
        ports.map((p) => ({
          name: `EBS drill volumes in ${p.region}`,
          list: async () => {
            const found = await p.listDrillVolumes();
            for (const v of found) where.set(v.volumeId, p);
            return found;
          },
        })),
      ),
    remove: async (volumeId) => {
      const known = where.get(volumeId);
      if (known) return known.remove(volumeId);
      for (const p of ports) if ((await p.remove(volumeId)) === 'deleted') return 'deleted';
      return 'gone';
    },
  };
};

/**
 * Every region's verifier instances as one port for the janitor: listed in the stage region and (with verifying
 * DR drills) in the DR region; a terminate goes to the region that listed the instance.
 */
export const allVerifiers = (
  ebs: EbsDrillDeps,
): Pick<EbsVerifierPort, 'listVerifiers' | 'terminate'> | undefined => {
  const ports = [ebs.verifier?.verifier, ebs.dr?.verifier?.verifier].filter(
    (p): p is EbsVerifierPort => p !== undefined,
  );
  if (ports.length <= 1) return ports[0];
  const where = new Map<string, EbsVerifierPort>();
  return {
    listVerifiers: async () =>
      (
        await Promise.all(
          ports.map(async (p) => {
            const found = await p.listVerifiers();
            for (const i of found) where.set(i.instanceId, p);
            return found;
          }),
        )
      ).flat(),
    terminate: async (instanceId) => {
      const known = where.get(instanceId);
      if (known) return known.terminate(instanceId);
      for (const p of ports) if ((await p.terminate(instanceId)) === 'terminated') return 'terminated';
      return 'gone';
    },
  };
};

const volumeTarget = (config: StewardConfig, name: string): EbsDrillTarget => {
  const t = volumeTargetOf(config, name);
  if (!t) {
    throw new EventShapeError('Unknown drill volume', [
      `database: "${name}" is not in drill.volumes of the ${config.stage} config (known: ${Object.keys(config.drill.volumes).join(', ') || 'none'})`,
    ]);
  }
  return t;
};

const needEbs = (deps: { ebs?: EbsDrillDeps | undefined }, doing: string): EbsDrillDeps => {
  if (!deps.ebs) {
    throw new ConfigError(`Cannot ${doing}: this function has no EBS drill wiring`, [
      'drill.volumes: EBS drills need the stage deployed with drill.volumes configured',
    ]);
  }
  return deps.ebs;
};

/** The first state of an EBS drill: its targets from `drill.volumes.<id>`. */
export const startVolumes = (
  base: Pick<DrillState, 'drillId' | 'startedAt' | 'input' | 'database'>,
  config: StewardConfig,
): DrillState => {
  const t = volumeTarget(config, base.database);
  return {
    ...base,
    kind: 'ebs',
    targets: {
      rtoSeconds: base.input.rtoSeconds ?? t.rtoSeconds ?? config.drill.rtoSeconds,
      rpoSeconds: base.input.rpoSeconds ?? t.rpoSeconds,
    },
  };
};

/**
 * The set a drill restores. Candidates are steward's own complete sets of the source (status `available`:
 * every member completed and as many as `steward:set-size` says), oldest first; `latest` takes the newest,
 * `randomWithinDays` a seeded pick of those in the window, `{ id }` that set if it is complete. Pure.
 */
export const selectSet = (
  selector: SnapshotSelector,
  sets: readonly Snapshot[],
  opts: { source: string; now: Date; seed: string; where?: string },
): Snapshot => {
  const what = `EBS source ${opts.source}${opts.where ? ` ${opts.where}` : ''}`;
  if (typeof selector === 'object' && 'pointInTime' in selector)
    throw new SnapshotSelectionError(`${what}: EBS restores snapshot sets only, not a point in time`);
  const complete = (s: Snapshot) =>
    s.kind === 'ebs' &&
    s.status === 'available' &&
    s.type === 'manual' &&
    (s.parts?.length ?? 0) > 0 &&
    Number.isFinite(time(s.createdAt));
  if (typeof selector === 'object' && 'id' in selector) {
    const s = sets.find((x) => x.id === selector.id);
    if (!s)
      throw new SnapshotSelectionError(`snapshot set ${selector.id} not found among the sets of ${what}`);
    if (s.sourceId !== opts.source)
      throw new SnapshotSelectionError(
        `snapshot set ${selector.id} belongs to ${s.sourceId}, not ${opts.source}`,
      );
    if (!complete(s))
      throw new SnapshotSelectionError(`snapshot set ${selector.id} is ${s.status}, not complete`);
    return s;
  }
  const candidates = sets.filter((s) => s.sourceId === opts.source && complete(s)).sort(oldestFirst);
  return pickAmong(candidates, selector, opts, what, 'complete snapshot set');
};

/** A set as the drill restores it: its members in a stable order. */
export const setRef = (s: Snapshot): SnapshotSetRef => ({
  id: s.id,
  sourceId: s.sourceId,
  createdAt: s.createdAt!,
  members: (s.parts ?? []).map((p) => ({ snapshotId: p.id, volumeId: p.volumeId })),
});

/** Pick the set and fix the settings the drill restores it with (a config change mid-drill changes nothing). */
export const selectVolumes = async (s: DrillState, deps: EbsTaskDeps): Promise<DrillState> => {
  const t = volumeTarget(deps.config, s.database);
  const ebs = needEbs(deps, `select a snapshot set of ${s.database}`);
  // From the DR copies: the copied sets (same set ids and tags, the source's time in steward:taken-at) are
  // listed and restored in dr.region.
  const dr = t.from === 'dr' ? ebs.dr : undefined;
  if (t.from === 'dr' && !dr) {
    throw new ConfigError(`Cannot drill ${s.database} from its DR copies`, [
      `drill.volumes.${s.database}.from: dr needs dr.region (another region) and this function's EC2 wiring there`,
    ]);
  }
  // A verifying drill from the DR copies needs the DR stack's verifier network: its volumes go where a
  // verifier can attach them (the network's first zone) unless the target names a zone.
  if (dr && t.verify && !dr.verifierZone) {
    throw new ConfigError(`Cannot verify ${s.database} in ${dr.volumes.region}: no verifier wiring there`, [
      `drill.volumes.${s.database}.verify: with from: dr the verifier runs in ${dr.volumes.region}; deploy the stage again (the drill function then reads the DR stack's verifier network)`,
    ]);
  }
  const availabilityZone =
    t.availabilityZone ??
    (dr
      ? await (t.verify && dr.verifierZone ? dr.verifierZone() : dr.availabilityZone())
      : ebs.availabilityZone);
  // Read the DR verifier network even when the target names its zone: a missing DR stack fails here, by name.
  if (dr && t.verify && t.availabilityZone && dr.verifierZone) await dr.verifierZone();
  if (!availabilityZone) {
    throw new ConfigError(`Cannot drill ${s.database}: no Availability Zone to restore into`, [
      `drill.volumes.${s.database}.availabilityZone: required when the function is not given the drill network's zone`,
    ]);
  }
  // From the vault: the vault's copies of this source's sets (from its account, in this region), dated by the
  // source set's time (steward:taken-at), restored here from the shared parts.
  const fromVault = t.from === 'vault' ? await vaultSetsOf(s.database, t, deps) : undefined;
  const sets = fromVault ? fromVault.sets : await (dr ?? ebs).sets.setsOf(s.database);
  const chosen = selectSet(s.input.snapshot ?? t.snapshot, sets, {
    source: s.database,
    now: deps.now(),
    seed: s.input.seed ?? s.drillId,
    ...(fromVault
      ? {
          where: `of account ${fromVault.vault.sourceAccount} in vault ${fromVault.vault.account} ${fromVault.vault.region}`,
        }
      : {}),
  });
  const set = setRef(chosen);
  const region = dr ? dr.volumes.region : undefined;
  const copiedFrom = fromVault ? copiedFromOf(chosen) : undefined;
  const vault = fromVault ? { ...fromVault.vault, ...(copiedFrom ? { copiedFrom } : {}) } : undefined;
  logger.info('drill snapshot set selected', { drillId: s.drillId, source: s.database, set, region, vault });
  return {
    ...s,
    source: {
      snapshotId: set.id,
      snapshotArn: chosen.arn,
      referenceTime: set.createdAt,
      ...(region ? { region } : {}),
    },
    ebs: {
      set,
      ...(vault ? { vault } : {}),
      settings: {
        availabilityZone,
        ...(region ? { region } : {}),
        ...(vault ? { encrypt: true } : {}),
        volumeType: t.volumeType,
        fastSnapshotRestore: t.fastSnapshotRestore,
        timeoutSeconds: t.timeoutSeconds,
        pollSeconds: t.pollSeconds,
      },
      // Nothing turned on yet: a Restore that fails leaves this, so Cleanup turns off only what it recorded.
      ...(t.fastSnapshotRestore ? { fastRestored: [] } : {}),
      volumes: set.members.map((m) => ({
        snapshotId: m.snapshotId,
        sourceVolumeId: m.volumeId,
        ...(m.device ? { device: m.device } : {}),
        state: 'not-requested',
      })),
    },
  };
};

/** The restore of a volume failed for good (a create refused, a volume in `error`). */
export class VolumeRestoreFailedError extends StewardError {
  override name = 'RestoreFailedError';
}

const progressOf = (s: DrillState): EbsDrillProgress => {
  if (!s.ebs) throw new EventShapeError('Invalid drill state', ['state.ebs: required (did select run?)']);
  return s.ebs;
};

/**
 * Create one volume per member (deterministic client tokens: a retried task gets the same volumes) in the
 * drill zone, tagged `steward:drill`; turn fast snapshot restore on first when configured. A refused create
 * fails the task after every other create was tried: cleanup finds what was created by its tag.
 */
export const restoreVolumes = async (s: DrillState, deps: EbsTaskDeps): Promise<DrillState> => {
  const ebs = needEbs(deps, `restore ${s.database}`);
  const p = progressOf(s);
  const volumesPort = volumesIn(ebs, p.settings.region);
  const requestedAt = p.requestedAt ?? deps.now().toISOString();
  // From the vault: every part shared with this account first (each recorded before it is made).
  if (p.vault) await shareVaultParts(s.drillId, p, deps);
  // Only where it was not on before the drill started: what this drill turns on is all it turns off. Each is
  // recorded in the state table before it is turned on: an execution that ends before this task returns (stopped,
  // timed out) or a Cleanup that fails still leaves the record the execution-ended rule and the janitor read.
  const zone = p.settings.availabilityZone;
  const fastRestored = p.settings.fastSnapshotRestore
    ? await volumesPort.enableFastRestore(
        p.set.members.map((m) => m.snapshotId),
        zone,
        s.startedAt,
        (ours) =>
          recordFastRestores(
            ebs.fastRestores,
            {
              drillId: s.drillId,
              availabilityZone: zone,
              region: volumesPort.region,
              enabledAt: deps.now().toISOString(),
            },
            ours,
          ),
      )
    : undefined;
  // Each volume of a snapshot this drill turned it on for carries the record (the execution-ended cleanup and
  // the janitor read it when the state is gone).
  const inputs = planVolumes(s.drillId, p.set, p.settings, fastRestored);
  const volumes = await Promise.all(
    inputs.map(async (input, i): Promise<RestoredVolume> => {
      const v = p.volumes[i] ?? { snapshotId: input.snapshotId, state: 'not-requested' };
      try {
        const created = await volumesPort.createVolume(input);
        return { ...v, volumeId: created.volumeId, state: created.state };
      } catch (e) {
        return { ...v, state: 'create-failed', error: errorMessage(e) };
      }
    }),
  );
  logger.info('drill volumes requested', { drillId: s.drillId, set: p.set.id, volumes });
  const refused = volumes.filter((v) => v.state === 'create-failed');
  if (refused.length) {
    // This state is lost with the error (Cleanup gets the one before): turn off now what no volume records.
    // Its ledger record is forgotten once it is off; one that stays on keeps its record (the janitor's).
    const unrecorded = (fastRestored ?? []).filter((id) => refused.some((v) => v.snapshotId === id));
    let off = '';
    if (unrecorded.length) {
      const { records } = await listFastRestores(ebs.fastRestores);
      const outcomes = await turnOffFastRestores(volumesPort, addFastRestores(new Map(), zone, unrecorded), {
        ledger: ebs.fastRestores,
        records,
        ending: (r) => r.drillId === s.drillId,
        dryRun: false,
      });
      off = outcomes
        .map((o) => (o.status === 'failed' ? `; ${o.resource} left on: ${o.error}` : ''))
        .join('');
    }
    throw new VolumeRestoreFailedError(
      `restore of set ${p.set.id}: ${refused.map((v) => `${v.snapshotId}: ${v.error}`).join('; ')}${off}`,
    );
  }
  return {
    ...s,
    ebs: { ...p, requestedAt, volumes, ...(fastRestored ? { fastRestored } : {}) },
  };
};

/**
 * The verifier step (after every volume is available): attach the volumes to a short-lived instance and run
 * the target's `verify` check (shared/drill/ebs-verifier.ts, which never throws and terminates its instance on
 * every path). Stores `ebs.verification` for the verdict: passed, failed (the check failed) or inconclusive
 * (the check could not run). A target without `verify` passes the state on unchanged.
 */
export const verifyVolumes = async (s: DrillState, deps: EbsTaskDeps): Promise<DrillState> => {
  const verify = volumeTarget(deps.config, s.database).verify;
  if (!verify) return s;
  const ebs = needEbs(deps, `verify the volumes of ${s.database}`);
  const p = progressOf(s);
  // The volumes' region: the verifier must launch there (a volume attaches only to an instance in its zone).
  const inDr = p.settings.region !== undefined && p.settings.region !== ebs.volumes.region;
  const verifier = inDr
    ? ebs.dr?.volumes.region === p.settings.region
      ? ebs.dr?.verifier
      : undefined
    : ebs.verifier;
  if (!verifier) {
    throw new ConfigError(
      `Cannot verify the volumes of ${s.database}${inDr ? ` in ${p.settings.region}` : ''}: this function has no verifier wiring${inDr ? ' there' : ''}`,
      [
        `drill.volumes.${s.database}.verify: needs the stage deployed with it (the verifier network and grants${inDr ? `, and the ${p.settings.region} verifier network of the -dr stack` : ''})`,
      ],
    );
  }
  const report = await verifyEbsSet(
    verifier,
    {
      drillId: s.drillId,
      availabilityZone: p.settings.availabilityZone,
      volumes: p.volumes.map((v) => ({
        volumeId: v.volumeId ?? '',
        sourceVolumeId: v.sourceVolumeId ?? v.snapshotId,
        ...(v.device ? { device: v.device } : {}),
      })),
    },
    verify,
  );
  const verification = verificationOutcome(report);
  logger.info('drill volumes verified', { drillId: s.drillId, outcome: verification.outcome, report });
  return { ...s, ebs: { ...p, verification, verifier: report } };
};

/** States a restored volume never leaves for `available`. */
const DEAD = new Set(['error', 'deleting', 'deleted']);

/**
 * One poll: each volume's state; the first time one is seen available its restore time is recorded. All
 * available → `available`; one dead → the task fails (into cleanup); past `timeoutSeconds` → `timedOut`.
 * Both flags are always set: the state machine's choice reads them.
 */
export const volumesStatus = async (s: DrillState, deps: EbsTaskDeps): Promise<DrillState> => {
  const ebs = needEbs(deps, `watch the volumes of ${s.database}`);
  const p = progressOf(s);
  const requestedAt = Date.parse(p.requestedAt ?? s.startedAt);
  const ids = p.volumes.flatMap((v) => (v.volumeId && v.state !== 'available' ? [v.volumeId] : []));
  const seen = new Map((await volumesIn(ebs, p.settings.region).describe(ids)).map((x) => [x.volumeId, x]));
  const now = deps.now();
  const volumes = p.volumes.map((v): RestoredVolume => {
    if (!v.volumeId || v.state === 'available') return v;
    const state = seen.get(v.volumeId)?.state ?? 'deleted';
    return state === 'available'
      ? { ...v, state, seconds: Math.round((now.getTime() - requestedAt) / 1000) }
      : { ...v, state };
  });
  const next: EbsDrillProgress = { ...p, volumes };
  const dead = volumes.filter((v) => DEAD.has(v.state));
  if (dead.length) {
    throw new VolumeRestoreFailedError(
      `restore of set ${p.set.id}: ${dead.map((v) => `volume ${v.volumeId} (${v.snapshotId}) is ${v.state}`).join('; ')}`,
    );
  }
  if (volumes.every((v) => v.state === 'available')) {
    return {
      ...s,
      available: true,
      timedOut: false,
      ebs: { ...next, availableAt: p.availableAt ?? now.toISOString() },
    };
  }
  const waited = Math.round((now.getTime() - requestedAt) / 1000);
  const base = { ...s, available: false, timedOut: false, ebs: next };
  if (waited <= p.settings.timeoutSeconds) return base;
  const late = volumes.filter((v) => v.state !== 'available');
  return {
    ...base,
    timedOut: true,
    ebs: {
      ...next,
      volumes: volumes.map((v) =>
        v.state === 'available'
          ? v
          : { ...v, error: `not available within ${p.settings.timeoutSeconds} s (last state ${v.state})` },
      ),
    },
    error: {
      Error: 'DrillTimeout',
      Cause: `volumes of set ${p.set.id} not available after ${waited} s: ${late.map((v) => `${v.volumeId} ${v.state}`).join(', ')} (drill.volumes.${s.database}.timeoutSeconds is ${p.settings.timeoutSeconds})`,
    },
  };
};

/**
 * Delete every volume of this drill: those in the state and those tagged `steward:drill=<drill id>` (a
 * restore that failed half-way returned no ids), and turn fast snapshot restore off when it was configured.
 * Reached from every step. A delete that fails fails the task after the others were tried (the state
 * machine retries, then records the failure; the janitor sweeps what is left).
 */
export const cleanupVolumes = async (
  raw: Record<string, unknown>,
  deps: EbsTaskDeps,
): Promise<DrillState> => {
  const s = raw as Partial<DrillState>;
  const at = deps.now().toISOString();
  const p = s.ebs;
  if (!p || !s.drillId) {
    return { ...raw, cleanup: { status: 'skipped', at, detail: 'nothing was restored' } } as DrillState;
  }
  const wiring = needEbs(deps, `clean up the volumes of ${s.database ?? 'a drill'}`);
  const ebs = volumesIn(wiring, p.settings.region);
  const known = p.volumes.flatMap((v) => (v.volumeId ? [v.volumeId] : []));
  const tagged = await taggedVolumes(ebs, s.drillId);
  const ids = [...new Set([...known, ...tagged.map((v) => v.volumeId)])].sort();
  const outcomes: Outcome[] = await Promise.all(
    ids.map(async (id): Promise<Outcome> => {
      const base = { resource: `volume ${id}`, action: 'delete' };
      if (deps.dryRun) return { ...base, status: 'planned' };
      try {
        const r = await ebs.remove(id);
        return { ...base, status: r === 'deleted' ? 'done' : 'already-done' };
      } catch (e) {
        return failedOutcome(base, e);
      }
    }),
  );
  // What this drill turned on: recorded in its state, on its volumes (a Restore that failed returned no state),
  // and in the ledger before each was turned on (an execution that ended between the enable and the volumes). A
  // state from an older steward records nothing: that one turned it on for the whole set. Turned off and its
  // records forgotten, unless another drill's record names the same snapshot and zone (it stays on for that one).
  const zone = p.settings.availabilityZone;
  const { records, failed: unlisted } = await listFastRestores(wiring.fastRestores);
  const own = records.filter((r) => r.drillId === s.drillId);
  const want: FastRestoresByZone = addFastRestores(new Map(), zone, [
    ...(p.fastRestored ?? (p.settings.fastSnapshotRestore ? p.set.members.map((m) => m.snapshotId) : [])),
    ...tagged.flatMap((v) => (v.tags[FAST_RESTORE_TAG] && v.snapshotId ? [v.snapshotId] : [])),
  ]);
  for (const r of own) addFastRestores(want, r.availabilityZone, [r.snapshotId]);
  if (unlisted) outcomes.push(unlisted);
  outcomes.push(
    ...(await turnOffFastRestores(ebs, want, {
      ledger: wiring.fastRestores,
      records,
      ending: (r) => r.drillId === s.drillId,
      dryRun: deps.dryRun,
    })),
  );
  // From the vault: the shares go last, once no volume of this drill reads the parts any more.
  if (p.vault) outcomes.push(...(await unshareVaultParts(s.drillId, p, deps)));
  logger.info('drill volumes cleaned up', { drillId: s.drillId, outcomes });
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.length) {
    throw new PartialFailureError(
      `Cleanup of drill ${s.drillId}`,
      failed.map((o) => failureOf(o.resource, new Error(o.status === 'failed' ? o.error : ''))),
    );
  }
  const deleted = outcomes.filter((o) => o.action === 'delete');
  const status = !deleted.length
    ? 'skipped'
    : deleted.some((o) => o.status === 'done' || o.status === 'planned')
      ? 'deleted'
      : 'already-gone';
  return {
    ...raw,
    ebs: { ...p, cleanup: outcomes },
    cleanup: {
      status,
      at,
      detail: deleted.length ? deleted.map((o) => o.resource).join(', ') : 'no volume was created',
    },
  } as DrillState;
};

/** This drill's volumes by tag (the state may not know them all). */
const taggedVolumes = async (port: EbsDrillPort, drillId: string): Promise<DrillVolume[]> =>
  (await port.listDrillVolumes()).filter((v) => v.tags[Tag.drill] === drillId && v.state !== 'deleted');
