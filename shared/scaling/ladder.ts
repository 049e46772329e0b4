/**
 * Steps on an instance class ladder: `db.r6g.large → db.r6g.xlarge → db.r6g.2xlarge`. Pure.
 * A class is `db.<family>.<size>`; a ladder stays in one family and is ordered smallest first.
 */

// The ladder itself (standard sizes, a class's parts, the ladder a rule climbs) lives with the config, which
// refuses a floor off it at synth by the same rule.
export { ladderFor, parseInstanceClass, STANDARD_SIZES } from '../config/ladder.js';

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
