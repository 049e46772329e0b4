import {
  actionInfo,
  expandAction,
  globalKeys,
  isSupplied,
  resourceTypesOfPattern,
  suppliedKeys,
} from './reference.js';
import type { PolicyDocument, PolicyStatement } from './template.js';

/** A statement that cannot mean what it says, by the Service Authorization Reference. */
export interface Finding {
  sid: string;
  problem:
    | 'unknown-action'
    | 'wildcard-only-action-on-arn'
    | 'resource-authorizes-nothing'
    | 'condition-key-never-supplied'
    | 'not-element';
  detail: string;
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** Every condition key a statement tests. */
export const conditionKeys = (s: PolicyStatement): string[] =>
  Object.values(s.Condition ?? {}).flatMap((block) => Object.keys(block));

/**
 * Check a policy against the reference:
 * - every action exists (a pattern must match at least one);
 * - an action without resource-level permissions is granted on "*" (else it is never allowed);
 * - every resource pattern is a resource type of at least one of the statement's actions;
 * - every condition key is one the action × resource type carries (stricter reading): a key it never
 *   carries makes an Allow silently deny and a Deny silently allow.
 */
export const lintPolicy = async (policy: PolicyDocument): Promise<Finding[]> => {
  const out: Finding[] = [];
  for (const [i, s] of policy.Statement.entries()) {
    const sid = s.Sid ?? `#${i}`;
    if (s.NotAction || s.NotResource) {
      out.push({ sid, problem: 'not-element', detail: 'NotAction/NotResource: review by hand' });
      continue;
    }
    const keys = conditionKeys(s);
    const resources = list(s.Resource);
    const patternUsed = new Map(resources.map((r) => [r, false]));
    for (const pattern of list(s.Action)) {
      if (pattern === '*') {
        // Every action: only keys every request carries can mean anything.
        const supplied = await globalKeys();
        for (const k of keys.filter((k) => !isSupplied(k, supplied))) {
          out.push({ sid, problem: 'condition-key-never-supplied', detail: `not every action carries ${k}` });
        }
        resources.forEach((r) => patternUsed.set(r, true));
        continue;
      }
      const expanded = await expandAction(pattern);
      if (!expanded.length) {
        out.push({ sid, problem: 'unknown-action', detail: `${pattern} matches no action` });
        continue;
      }
      for (const action of expanded) {
        const info = (await actionInfo(action))!;
        if (info.wildcardOnly) {
          if (!resources.includes('*')) {
            out.push({
              sid,
              problem: 'wildcard-only-action-on-arn',
              detail: `${action} supports no resource-level permissions: it is only ever allowed on "*"`,
            });
          }
          if (resources.includes('*')) patternUsed.set('*', true);
          const supplied = await suppliedKeys(info, undefined);
          for (const k of keys.filter((k) => !isSupplied(k, supplied))) {
            out.push({
              sid,
              problem: 'condition-key-never-supplied',
              detail: `${action} never carries ${k}`,
            });
          }
          continue;
        }
        for (const pattern of resources) {
          for (const type of await resourceTypesOfPattern(info, pattern)) {
            patternUsed.set(pattern, true);
            const supplied = await suppliedKeys(info, type);
            for (const k of keys.filter((k) => !isSupplied(k, supplied))) {
              out.push({
                sid,
                problem: 'condition-key-never-supplied',
                detail: `${action} on ${type} (${pattern}) never carries ${k}`,
              });
            }
          }
        }
      }
    }
    for (const [pattern, used] of patternUsed) {
      if (!used) {
        out.push({
          sid,
          problem: 'resource-authorizes-nothing',
          detail: `${pattern} is no resource type of ${list(s.Action).join(', ')}`,
        });
      }
    }
  }
  return out;
};
