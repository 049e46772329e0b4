import type { Snapshot } from './model.js';

const STAMP = /-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})-(?:sched|adhoc)$/;

/**
 * The time of the data a snapshot holds: the scheduled stamp of a steward id, else its creation time.
 * One definition for DR lag everywhere (the backup function's metric, `steward status`, the evidence report).
 */
export const dataTime = (s: Pick<Snapshot, 'id' | 'createdAt'>): number | undefined => {
  const m = STAMP.exec(s.id);
  if (m) {
    const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
    return Date.UTC(y, mo - 1, d, h, mi);
  }
  const t = s.createdAt ? Date.parse(s.createdAt) : NaN;
  return Number.isFinite(t) ? t : undefined;
};
