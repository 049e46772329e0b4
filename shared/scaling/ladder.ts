/**
 * Instance class ladders: `db.r6g.large → db.r6g.xlarge → db.r6g.2xlarge`. Pure.
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

export type LadderStep =
  | { step: 'next'; to: string }
  | { step: 'at-max' | 'at-min'; detail: string }
  | { step: 'not-on-ladder'; detail: string };

/** One rung up from `current`, never above `max`. */
export const nextScaleStep = (ladder: readonly string[], current: string, max: string): LadderStep => {
  const i = ladder.indexOf(current);
  if (i < 0)
    return { step: 'not-on-ladder', detail: `${current} is not on the ladder ${ladder.join(' → ')}` };
  const top = ladder.indexOf(max);
  const limit = top < 0 ? ladder.length - 1 : top;
  if (i >= limit) return { step: 'at-max', detail: `${current} is already at the top (max ${max})` };
  return { step: 'next', to: ladder[i + 1]! };
};

/** One rung down from `current`, never below `min` (default: the ladder's first rung). */
export const previousScaleStep = (
  ladder: readonly string[],
  current: string,
  min: string | undefined,
): LadderStep => {
  const i = ladder.indexOf(current);
  if (i < 0)
    return { step: 'not-on-ladder', detail: `${current} is not on the ladder ${ladder.join(' → ')}` };
  const floor = min === undefined ? 0 : ladder.indexOf(min);
  // A floor off the ladder (another family, or above max) is no floor: refuse rather than step to the bottom.
  if (floor < 0)
    return {
      step: 'not-on-ladder',
      detail: `the floor ${min} (scaleIn.min) is not on the ladder ${ladder.join(' → ')}`,
    };
  if (i <= floor) return { step: 'at-min', detail: `${current} is already at the floor (${ladder[floor]})` };
  return { step: 'next', to: ladder[i - 1]! };
};
