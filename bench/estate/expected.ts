import type { RetentionPolicy } from '../../shared/config/schema.js';

// What a retention policy keeps, written from the policy's definition (README, "Retention") and not from
// steward's engine: the bench compares what steward left in AWS with this, so the two must not share code.

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 (a Thursday), UTC. */
const dayIndex = (ms: number) => Math.floor(ms / DAY_MS);

/** Period numbers: equal for two instants in the same UTC day, ISO week (Monday first), month or year. */
const PERIODS: Record<'daily' | 'weekly' | 'monthly' | 'yearly', (ms: number) => number> = {
  daily: dayIndex,
  // 1970-01-05 was the first Monday: ISO weeks are the 7-day blocks counted from it.
  weekly: (ms) => Math.floor((dayIndex(ms) - 4) / 7),
  monthly: (ms) => {
    const d = new Date(ms);
    return d.getUTCFullYear() * 12 + d.getUTCMonth();
  },
  yearly: (ms) => new Date(ms).getUTCFullYear(),
};

/**
 * The creation times a policy keeps of one database's snapshots in one region: the newest snapshot of each
 * of the newest `daily` days, `weekly` ISO weeks, `monthly` months and `yearly` years that have one, the
 * newest snapshot always, then the newest others up to `keepAtLeast`.
 */
export const policyKeeps = (takenAt: readonly number[], policy: RetentionPolicy): Set<number> => {
  const newestFirst = [...takenAt].sort((a, b) => b - a);
  const kept = new Set<number>();
  for (const rule of ['daily', 'weekly', 'monthly', 'yearly'] as const) {
    const seen = new Set<number>();
    for (const t of newestFirst) {
      if (seen.size >= policy[rule]) break;
      const p = PERIODS[rule](t);
      if (seen.has(p)) continue;
      seen.add(p);
      kept.add(t);
    }
  }
  if (newestFirst.length) kept.add(newestFirst[0]!);
  for (const t of newestFirst) {
    if (kept.size >= policy.keepAtLeast) break;
    kept.add(t);
  }
  return kept;
};

/** Percentile `p` (0–100) of a sample, nearest rank; 0 for an empty one. */
export const percentile = (xs: readonly number[], p: number): number => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/** Pages a listing of `n` items needs at `perPage` items a page (an empty listing still takes one request). */
export const pages = (n: number, perPage: number): number => Math.max(1, Math.ceil(n / perPage));
