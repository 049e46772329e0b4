import type { VerificationOutcome } from '../drill/checks.js';
import type { DrillReportDocument } from '../drill/report.js';
import type { ResourceKind } from '../model.js';

/** Capability name: log service, notification speaker, metric dimension. */
export const CAPABILITY = 'report';

/** One word per database: what an operator (and `steward status`'s exit code) acts on. */
export type Health = 'OK' | 'LATE' | 'FAILING' | 'UNPROTECTED';

/** Worse is higher: FAILING > LATE > UNPROTECTED > OK. */
export const HEALTH_RANK: Record<Health, number> = { OK: 0, UNPROTECTED: 1, LATE: 2, FAILING: 3 };

/** The parts of a database's protection that are judged separately (and alerted under their own key). */
export type Aspect = 'backup' | 'dr' | 'drill';

/** The verdict on one aspect, with its reason in words. */
export interface AspectVerdict {
  aspect: Aspect;
  health: Exclude<Health, 'UNPROTECTED'>;
  reason: string;
}

/** A drill as status and the report need it: the verdict, RTO/RPO against targets, the checks. */
export interface DrillSummary {
  drillId: string;
  database: string;
  startedAt: string;
  passed: boolean;
  /** Absent in reports written before inconclusive drills existed: then `passed` says it all. */
  outcome?: VerificationOutcome;
  failedStep?: string;
  summary: string;
  reasons: string[];
  /** Why an inconclusive drill proved nothing (a check not finished in its bound, the cost ceiling). */
  gaps?: string[];
  /** The drill copy's billed instance-hours and estimated cost (list prices). */
  cost?: { instanceHours: number; estimatedUsd?: number };
  rtoSeconds?: number;
  rpoSeconds?: number;
  rtoTargetSeconds?: number;
  rpoTargetSeconds?: number;
  rtoMet?: boolean;
  rpoMet?: boolean;
  snapshotId?: string;
  checks: { name: string; kind: string; passed: boolean; detail: string }[];
  reportKey?: string;
}

/** What the state table says about scaling one resource (cooldowns, approvals waiting for a human). */
export interface ScalingState {
  kind: ResourceKind;
  resource: string;
  cooldownUntil?: string;
  lastRule?: string;
  approvals: { id: string; rule: string; change: string; expiresAt: string }[];
}

/** One row of `steward status`. */
export interface DatabaseStatus {
  id: string;
  kind: ResourceKind;
  /** The engine; of an ElastiCache serverless cache `<engine> serverless` (`valkey serverless`). */
  engine: string;
  /** An ElastiCache serverless cache, not a replication group. */
  serverless?: true;
  /** The service's status (`available`, `stopped`, …). */
  status: string;
  /** Backup policy name; undefined when the database is not tagged `steward:backup`. */
  policy?: string;
  /** A read replica: its source database. */
  replicaOf?: string;
  health: Health;
  /** Why, worst first; empty when OK. */
  reasons: string[];
  aspects: AspectVerdict[];
  newestSnapshot?: {
    id: string;
    createdAt?: string;
    ageSeconds?: number;
    status: string;
    /** Steward's own (tagged or named `steward-*`), or AWS's automated backup. */
    owner: 'steward' | 'automated' | 'other';
  };
  /** Steward's available snapshots of this database in the primary region. */
  held: number;
  /** How many of them the retention policy keeps now (the rest are due to expire). */
  keeps?: number;
  dr?: {
    region: string;
    newestCopyId?: string;
    /** Age of the data in the newest DR copy (DR lag). */
    lagSeconds?: number;
    copies: number;
  };
  drill?: {
    rtoTargetSeconds: number;
    rpoTargetSeconds: number;
    last?: DrillSummary;
  };
  scaling?: ScalingState;
  /** Next scheduled backup, when the schedule is known. */
  nextBackupAt?: string;
}

/** `steward status` for one account-region. */
export interface EstateStatus {
  type: 'steward-status';
  version: 1;
  stage: string;
  /** The account every database listed lives in, when the config names it. */
  account?: string;
  region: string;
  at: string;
  counts: Record<Health, number>;
  databases: DatabaseStatus[];
  /** Partial reads and other caveats ("drill history unreadable: …"). */
  notes: string[];
}

/** Passed, failed, or inconclusive (nothing found wrong, but not everything proven). Pure. */
export const drillOutcome = (d: Pick<DrillSummary, 'passed' | 'outcome'>): VerificationOutcome =>
  d.outcome ?? (d.passed ? 'passed' : 'failed');

/** The drill summary of a report document. Pure. */
export const drillSummary = (doc: DrillReportDocument): DrillSummary => {
  const m = doc.metrics;
  const targets = doc.targets;
  return {
    drillId: doc.drillId,
    database: doc.database,
    startedAt: doc.startedAt,
    passed: doc.passed,
    ...(doc.outcome ? { outcome: doc.outcome } : {}),
    ...(doc.failedStep ? { failedStep: doc.failedStep } : {}),
    summary: doc.summary,
    reasons: doc.reasons,
    ...(doc.gaps?.length ? { gaps: doc.gaps } : {}),
    ...(doc.cost
      ? {
          cost: {
            instanceHours: doc.cost.instanceHours,
            ...(doc.cost.estimatedUsd !== undefined ? { estimatedUsd: doc.cost.estimatedUsd } : {}),
          },
        }
      : {}),
    ...(m ? { rtoSeconds: m.rtoSeconds, rtoMet: m.rtoMet, rpoMet: m.rpoMet } : {}),
    ...(m?.rpoSeconds !== undefined ? { rpoSeconds: m.rpoSeconds } : {}),
    ...(m || targets
      ? {
          rtoTargetSeconds: m?.rtoTargetSeconds ?? targets!.rtoSeconds,
          rpoTargetSeconds: m?.rpoTargetSeconds ?? targets!.rpoSeconds,
        }
      : {}),
    ...(doc.source?.snapshotId ? { snapshotId: doc.source.snapshotId } : {}),
    checks: (doc.verification?.checks ?? []).map((c) => ({
      name: c.name,
      kind: c.kind,
      passed: c.passed,
      detail: c.detail,
    })),
    ...(doc.reportKey ? { reportKey: doc.reportKey } : {}),
  };
};
