/**
 * The instance classes a `rds.scaleUp` rule climbs: its configured ladder, or its family's standard sizes up to
 * `max`. Pure. Here, below both, so the config schema refuses a floor off the ladder at synth (and `steward
 * validate`) with the same rule the scaling engine steps by at run time (shared/scaling/ladder.ts).
 * A class is `db.<family>.<size>`; a ladder stays in one family and is ordered smallest first.
 */

// Standard RDS sizes, smallest first. Not every family offers every size: configure a ladder when yours skips.
export const STANDARD_SIZES = [
  'micro',
  'small',
  'medium',
  'large',
  'xlarge',
  '2xlarge',
  '4xlarge',
  '8xlarge',
  '12xlarge',
  '16xlarge',
  '24xlarge',
  '32xlarge',
  '48xlarge',
] as const;

/** `db.r6g.xlarge` → `{ family: 'r6g', size: 'xlarge' }`; undefined for anything else. */
export const parseInstanceClass = (c: string): { family: string; size: string } | undefined => {
  const m = /^db\.([a-z0-9-]+)\.([a-z0-9]+)$/.exec(c);
  return m ? { family: m[1]!, size: m[2]! } : undefined;
};

/** The ladder for an action: the configured one, or the family's standard sizes up to `max`. */
export const ladderFor = (configured: readonly string[] | undefined, max: string): string[] => {
  if (configured) return [...configured];
  const top = parseInstanceClass(max);
  if (!top) return [];
  const end = STANDARD_SIZES.indexOf(top.size as (typeof STANDARD_SIZES)[number]);
  // A max outside the standard sizes makes a one-step ladder: only the max itself.
  if (end < 0) return [max];
  return STANDARD_SIZES.slice(0, end + 1).map((s) => `db.${top.family}.${s}`);
};
