import { BENCH_GROUPS } from '../bench/groups.js';
import { suggestion } from '../shared/config/suggest.js';
import { UsageError } from './base.js';

/**
 * `steward bench [<group> ...]`: a group name is checked before the benches load, so a typo is bad usage at
 * once (exit 2, on stderr, one JSON document with --json), not after half a minute of imports.
 */
export const bench = async (
  groups: string[],
  flags: { json: boolean },
  out: (s: string) => void,
): Promise<number> => {
  const known: readonly string[] = BENCH_GROUPS;
  const unknown = groups.find((g) => !known.includes(g));
  if (unknown !== undefined)
    throw new UsageError(`unknown bench group "${unknown}": ${suggestion(unknown, known)}`, [unknown]);
  return (await import('../bench/run.js')).bench(groups, flags, out);
};
