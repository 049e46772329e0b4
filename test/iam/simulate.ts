import { runSimulation } from '@cloud-copilot/iam-simulate';
import { actionInfo, isSupplied, resourceTypesOfArn, suppliedKeys } from './reference.js';
import type { Context, IamRequest } from './requests.js';
import type { PolicyDocument } from './template.js';

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

export interface Verdict {
  decision: Decision;
  /** Statement ids that decided it (the Deny that matched, or the Allows). */
  by: string[];
  /** Context keys dropped because the action × resource never carries them. */
  dropped: string[];
}

// A request for "every name" (`db:*`, a new interface `network-interface/*`) must not be matched by a
// pattern naming one resource: the simulator would expand `*`, so it gets a name only `*` covers.
const EVERY = 'every-resource-9f1c';

/**
 * Simulate one request against an identity policy (and, for a resource in another account, that
 * resource's policy). The context is cut to the keys the reference says this action × resource carries
 * (the stricter reading, see suppliedKeys); the simulator then evaluates in strict mode.
 */
export const simulate = async (
  principal: string,
  policy: PolicyDocument,
  r: IamRequest,
  principalAccount: string,
  /** Where a request on "*" (or an ARN without a region) is sent. */
  defaultRegion: string,
): Promise<Verdict> => {
  const info = await actionInfo(r.action);
  if (!info)
    throw new Error(`${r.label}: ${r.action} is not an action in the Service Authorization Reference`);
  let type: string | undefined;
  // A request naming no resource of an action whose resource types are all optional is authorized on "*".
  const onStar = r.resource === '*' && (info.wildcardOnly || info.resourceTypes.every((t) => !t.required));
  if (!onStar) {
    const types = await resourceTypesOfArn(info, r.resource);
    if (types.length !== 1) {
      throw new Error(
        `${r.label}: ${r.resource} is ${types.length ? `ambiguous (${types.join(', ')})` : 'no resource type'} of ${info.action}`,
      );
    }
    type = types[0];
  }
  const supplied = await suppliedKeys(info, type);
  // Every request is sent to one region: the resource's, unless the request says otherwise.
  const region = (r.resource !== '*' && r.resource.split(':')[3]) || defaultRegion;
  const full: Context = { 'aws:RequestedRegion': region, 'aws:SecureTransport': 'true', ...r.context };
  const context: Context = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(full)) {
    if (isSupplied(k, supplied)) context[k] = v;
    else dropped.push(k);
  }
  const resource = r.resource === '*' ? '*' : r.resource.replace(/\*/g, EVERY);
  const resourceAccount =
    r.resourceAccount ??
    (r.resource === '*' ? principalAccount : r.resource.split(':')[4] || principalAccount);
  const result = await runSimulation(
    {
      request: {
        principal,
        action: info.action,
        resource: { resource, accountId: resourceAccount },
        contextVariables: {
          'aws:PrincipalArn': principal,
          'aws:PrincipalAccount': principalAccount,
          ...context,
        },
      },
      identityPolicies: [{ name: 'role', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(r.resourcePolicy ? { resourcePolicy: r.resourcePolicy } : {}),
    },
    { simulationMode: 'Strict' },
  );
  if (result.resultType === 'error') {
    throw new Error(
      `${r.label}: simulation refused: ${result.errors.message} ${JSON.stringify(result.errors)}`,
    );
  }
  const analysis = result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
  const identity = analysis?.identityAnalysis;
  const by =
    result.overallResult === 'ExplicitlyDenied'
      ? (identity?.denyStatements ?? []).map((s) => s.explain.identifier ?? '?')
      : (identity?.allowStatements ?? []).map((s) => s.explain.identifier ?? '?');
  return { decision: result.overallResult as Decision, by, dropped };
};
