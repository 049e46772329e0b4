import type { DrillRestoreShape } from '../config/schema.js';
import type { DrillKind, RestoreShape } from './cost.js';

/** Smallest class each kind allows for common engines: the fallback when the source's class is unknown. */
export const DEFAULT_DRILL_CLASS: Record<DrillKind, string> = {
  'rds-instance': 'db.t4g.micro',
  // Aurora MySQL 3 and Aurora PostgreSQL start at db.t4g.medium.
  'aurora-cluster': 'db.t4g.medium',
  // A Redis drill sizes its node type from the snapshot (cache-shape.ts); this is only the type's floor.
  redis: 'cache.t4g.micro',
};

/** How the source database is built, as far as a restore can copy it. */
export interface SourceShape {
  instanceClass?: string;
  /** Aurora: instances in the cluster. */
  instances?: number;
  storageType?: string;
  allocatedGb?: number;
  iops?: number;
  storageThroughputMiBps?: number;
}

/**
 * The shape a drill restores: the configured one, filled in from the source (its class by default, so
 * restore and warm-up times are what a real recovery would see). Storage settings not configured are
 * left to RDS, which restores the snapshot's. Pure.
 */
export const restoreShape = (
  kind: DrillKind,
  cfg: DrillRestoreShape,
  source: SourceShape | undefined,
): RestoreShape => {
  const fromSource = cfg.instanceClass === 'source';
  const instanceClass = fromSource ? (source?.instanceClass ?? DEFAULT_DRILL_CLASS[kind]) : cfg.instanceClass;
  const storageType = cfg.storageType ?? source?.storageType;
  // IOPS and throughput of the source only carry over to the same storage type.
  const sameStorage = !cfg.storageType || cfg.storageType === source?.storageType;
  const iops = cfg.iops ?? (sameStorage ? source?.iops : undefined);
  const throughput = cfg.storageThroughputMiBps ?? (sameStorage ? source?.storageThroughputMiBps : undefined);
  return {
    kind,
    instanceClass,
    instanceClassFrom: !fromSource ? 'config' : source?.instanceClass ? 'source' : 'default',
    ...(source?.instanceClass ? { sourceInstanceClass: source.instanceClass } : {}),
    instances: kind === 'aurora-cluster' ? cfg.instances : 1,
    ...(storageType ? { storageType } : {}),
    ...(source?.allocatedGb !== undefined ? { allocatedGb: source.allocatedGb } : {}),
    ...(iops !== undefined ? { iops } : {}),
    ...(throughput !== undefined ? { storageThroughputMiBps: throughput } : {}),
  };
};

/** The restore options to send: only what the config asks to change (RDS keeps the snapshot's otherwise). */
export const restoreOverrides = (cfg: DrillRestoreShape) => ({
  ...(cfg.storageType ? { storageType: cfg.storageType } : {}),
  ...(cfg.iops !== undefined ? { iops: cfg.iops } : {}),
  ...(cfg.storageThroughputMiBps !== undefined ? { storageThroughputMiBps: cfg.storageThroughputMiBps } : {}),
});

/** `db.r6g.2xlarge (the source's class)`, `db.t4g.medium (configured; source db.r6g.2xlarge)`, ... */
export const describeShape = (s: RestoreShape): string => {
  const why =
    s.instanceClassFrom === 'source'
      ? "the source's class"
      : s.instanceClassFrom === 'config'
        ? `configured${s.sourceInstanceClass && s.sourceInstanceClass !== s.instanceClass ? `; source ${s.sourceInstanceClass}` : ''}`
        : s.instanceClassFrom === 'fit'
          ? `the smallest that holds the snapshot${s.sourceInstanceClass ? `; source ${s.sourceInstanceClass}` : ''}`
          : 'source class unknown: the smallest';
  const storage = [
    s.storageType,
    s.allocatedGb !== undefined ? `${s.allocatedGb} GB` : undefined,
    s.iops !== undefined ? `${s.iops} IOPS` : undefined,
    s.storageThroughputMiBps !== undefined ? `${s.storageThroughputMiBps} MiB/s` : undefined,
  ].filter(Boolean);
  return (
    `${s.instances > 1 ? `${s.instances} × ` : ''}${s.instanceClass} (${why})` +
    (storage.length ? `, ${storage.join(' ')}` : '')
  );
};
