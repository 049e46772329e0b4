import type { StepStatus } from '../backup/consistency.js';
import type { Outcome } from '../model.js';

/*
 * The EBS drill's state shapes: what a drill carries between its steps (`DrillState.ebs`). A leaf module, so
 * that the drill state can name them without importing the EBS drill's tasks or adapters.
 */

/** One member of a snapshot set: a snapshot of one volume of the instance. */
export interface SetMember {
  snapshotId: string;
  /** The volume it was taken from. */
  volumeId: string;
  /** The device name on the source instance (e.g. /dev/xvdf), for the report. */
  device?: string;
}

/** A snapshot set to drill: the snapshots of one instance (or one volume) taken together. */
export interface SnapshotSetRef {
  /** The set's id (steward's deterministic id). */
  id: string;
  /** The instance or volume it protects. */
  sourceId: string;
  /** When the set was taken (RPO). */
  createdAt: string;
  members: SetMember[];
}

/**
 * The EBS drill: restore every volume of one snapshot set into the drill network's Availability Zone,
 * prove each becomes usable, time it, and delete what it made on every path. Pure rules and an
 * orchestration over the EbsDrillPort; shared/aws/ebs-drill.ts is the EC2 adapter.
 */

export interface EbsDrillSettings {
  /** The drill network's Availability Zone: restored volumes must be there to attach to its verifier. */
  availabilityZone: string;
  /** Set when the volumes are restored outside the stage's region: a drill from the DR copies (`from: dr`). */
  region?: string;
  volumeType: 'gp3' | 'gp2' | 'io1' | 'io2' | 'st1' | 'sc1' | 'standard';
  /** Fast snapshot restore for the drill's snapshots in that zone (billed per snapshot and zone hour). */
  fastSnapshotRestore: boolean;
  /** A volume not available by then fails the drill (and is still deleted). */
  timeoutSeconds: number;
  /**
   * Create the volumes encrypted with this account's default EBS key (CreateVolume `Encrypted` without a key):
   * a drill from the vault, whose set is encrypted with the vault's key, so the volumes do not stay on it.
   */
  encrypt?: boolean;
}

export interface RestoredVolume {
  snapshotId: string;
  /** The volume the snapshot was taken from (the source instance's), for the report and a verifier. */
  sourceVolumeId?: string;
  volumeId?: string;
  device?: string;
  state: string;
  /** From the create request to the first time it was seen available. */
  seconds?: number;
  error?: string;
}

/**
 * A verifier's answer (a read-only check of the restored volumes on a short-lived instance). The verifier
 * step, when configured, sets `state.ebs.verification`; the verdict then counts it.
 */
export interface EbsVerification {
  outcome: 'passed' | 'failed' | 'inconclusive';
  startedAt: string;
  finishedAt: string;
  summary: string;
  /** What the check printed, bounded by the verifier. */
  output?: string;
}

/**
 * A drill from the vault (`from: vault`): the set is the vault's copy, in the vault account; its parts are shared
 * with the drill's account for the drill (each recorded first) and unshared by the cleanup.
 */
export interface EbsVaultSource {
  /** The vault account (owner of the set's snapshots) and its region (the stage's). */
  account: string;
  region: string;
  /** The account the instance or volume lives in (the vault copy's `steward:source-account`). */
  sourceAccount: string;
  /** The source set the vault copied (`steward:copied-from`), for the report. */
  copiedFrom?: string;
}

/** The EBS part of a drill's state. */
export interface EbsDrillProgress {
  set: SnapshotSetRef;
  /** Set when the set is the vault's copy (`from: vault`). */
  vault?: EbsVaultSource;
  settings: EbsDrillSettings & { pollSeconds: number };
  /** When the first create request was sent: each volume's restore time counts from here. */
  requestedAt?: string;
  /**
   * The snapshots whose fast snapshot restore this drill turned on (in `settings.availabilityZone`): the only
   * ones its cleanup turns off. Set empty at select; absent in the state of a drill selected by an older steward
   * (which turned it on for the whole set).
   */
  fastRestored?: string[];
  volumes: RestoredVolume[];
  /** When the last volume became available: the set is usable from then on. */
  availableAt?: string;
  verification?: EbsVerification;
  /** The verifier's whole report (instance, devices, check, its own cleanup), when a verifier ran. */
  verifier?: EbsVerifyReport;
  /** What cleanup did, volume by volume (and fast snapshot restore). */
  cleanup?: Outcome[];
}

/** Where each restored volume is on the verifier. */
export interface DeviceAssignment {
  volumeId: string;
  sourceVolumeId: string;
  device: string;
}

export interface CheckRecord {
  status: StepStatus | 'error';
  /** The end of the check's stdout (bounded by the step runner). */
  output?: string;
  /** Run Command's status detail and the end of stderr, or why it could not run. */
  detail?: string;
  seconds: number;
}

export interface EbsVerifyReport {
  /** `passed`: the check exited 0; `failed`: it ran and did not; `error`: it could not run (no verdict). */
  status: 'passed' | 'failed' | 'error';
  startedAt: string;
  /** When the check ended (or the verification stopped), before the cleanup: the drill's RTO ends here. */
  finishedAt: string;
  instanceId?: string;
  instanceType: string;
  devices: DeviceAssignment[];
  /** Seconds from the launch request until the instance was online in Systems Manager. */
  registrationSeconds?: number;
  /** Seconds from the first attach request until every volume was attached. */
  attachSeconds?: number;
  check?: CheckRecord;
  /** The command as configured and sent (the report shows what ran). */
  command: string;
  /** Terminating the instance and the volumes' detachment. */
  cleanup: Outcome[];
  problems: string[];
}
