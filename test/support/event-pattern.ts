/**
 * EventBridge event-pattern matching, offline: `TestEventPattern` needs the service, so the rules' patterns are
 * tested against the fixtures with the documented semantics (EventBridge User Guide, "Creating event
 * patterns" and "Content filtering in Amazon EventBridge event patterns"):
 * - every field the pattern names must match (AND); a pattern's leaf is an array of matchers (OR);
 * - an event array matches when any of its elements matches (arrays of objects are flattened along the path);
 * - exact values are case-sensitive and typed (`"1"` is not `1`); a field absent from the event matches only
 *   `{ "exists": false }`;
 * - `prefix`, `suffix` (each also with `equals-ignore-case`), `anything-but` (a value, a list, or a `prefix`,
 *   `suffix`, `equals-ignore-case` or `wildcard` inside), `numeric`, `exists`, `equals-ignore-case`,
 *   `wildcard` (`*` any run of characters, `\*` a star), and `$or` (any of its sub-patterns).
 * A matcher this does not know (`cidr`) throws rather than silently matching or not.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** The values of a field, its arrays flattened at every level; [] when the field is absent. */
const leaves = (node: unknown): unknown[] =>
  Array.isArray(node) ? node.flatMap(leaves) : node === undefined ? [] : [node];

const wildcardRegex = (w: string): RegExp => {
  let out = '';
  for (let i = 0; i < w.length; i++) {
    const c = w[i]!;
    if (c === '\\' && w[i + 1] === '*') {
      out += '\\*';
      i++;
    } else if (c === '*') out += '.*';
    else out += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
};

const stringMatcher = (m: unknown, value: unknown, kind: 'prefix' | 'suffix'): boolean => {
  if (typeof value !== 'string') return false;
  if (typeof m === 'string') return kind === 'prefix' ? value.startsWith(m) : value.endsWith(m);
  if (isObject(m) && typeof m['equals-ignore-case'] === 'string') {
    const v = value.toLowerCase();
    const p = m['equals-ignore-case'].toLowerCase();
    return kind === 'prefix' ? v.startsWith(p) : v.endsWith(p);
  }
  throw new Error(`unsupported ${kind} matcher ${JSON.stringify(m)}`);
};

const numeric = (ops: unknown, value: unknown): boolean => {
  if (typeof value !== 'number' || !Array.isArray(ops)) return false;
  for (let i = 0; i < ops.length; i += 2) {
    const [op, n] = [ops[i], ops[i + 1] as number];
    const ok =
      op === '='
        ? value === n
        : op === '<'
          ? value < n
          : op === '<='
            ? value <= n
            : op === '>'
              ? value > n
              : op === '>='
                ? value >= n
                : (() => {
                    throw new Error(`unsupported numeric operator ${JSON.stringify(op)}`);
                  })();
    if (!ok) return false;
  }
  return true;
};

/** Whether one matcher of a leaf array matches one (present) event value. */
const matchesValue = (m: unknown, value: unknown): boolean => {
  if (!isObject(m)) return m === value;
  const keys = Object.keys(m);
  if (keys.length !== 1) throw new Error(`a matcher has one key: ${JSON.stringify(m)}`);
  const [key] = keys as [string];
  const arg = m[key];
  switch (key) {
    case 'prefix':
    case 'suffix':
      return stringMatcher(arg, value, key);
    case 'equals-ignore-case':
      return (
        typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase()
      );
    case 'wildcard':
      return typeof value === 'string' && typeof arg === 'string' && wildcardRegex(arg).test(value);
    case 'numeric':
      return numeric(arg, value);
    case 'anything-but':
      if (Array.isArray(arg)) return !arg.includes(value as Json);
      if (isObject(arg)) return !matchesValue(arg, value);
      return value !== arg;
    default:
      throw new Error(`unsupported matcher ${JSON.stringify(m)}`);
  }
};

const matchesLeaf = (matchers: unknown[], values: unknown[]): boolean =>
  matchers.some((m) => {
    if (isObject(m) && 'exists' in m) return m.exists === values.length > 0;
    return values.some((v) => !isObject(v) && matchesValue(m, v));
  });

/** The objects below `node` (arrays of objects flattened), for a nested pattern. */
const objects = (node: unknown): Record<string, unknown>[] =>
  Array.isArray(node) ? node.flatMap(objects) : isObject(node) ? [node] : [];

/** Whether `event` (or a part of it) matches `pattern` (or the part of it at the same path). */
const matchesAt = (pattern: Record<string, unknown>, nodes: Record<string, unknown>[]): boolean =>
  Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') {
      if (!Array.isArray(sub)) throw new Error('$or takes an array of patterns');
      return sub.some((p) => isObject(p) && matchesAt(p, nodes));
    }
    const below = nodes.map((n) => n[key]);
    if (Array.isArray(sub)) return matchesLeaf(sub, below.flatMap(leaves));
    if (isObject(sub)) return matchesAt(sub, below.flatMap(objects));
    throw new Error(`pattern field ${key} must be an array of matchers or an object`);
  });

/** Whether EventBridge delivers `event` to a rule with `pattern` (both as JSON, intrinsics resolved). */
export const matchesPattern = (pattern: unknown, event: unknown): boolean => {
  if (!isObject(pattern)) throw new Error('an event pattern is a JSON object');
  if (!isObject(event)) return false;
  return matchesAt(pattern, [event]);
};
