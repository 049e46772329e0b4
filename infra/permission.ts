import type { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { Tag } from '../shared/tags.js';
import { acknowledge, wildcardFindings } from './nag.js';

/** One IAM statement for a function's role. */
export interface Permission {
  /** Statement id: names the permission in the template, in reviews and in tests. */
  sid: string;
  actions: string[];
  resources: string[];
  conditions?: Record<string, Record<string, unknown>>;
  /** Required when an action or resource has a wildcard: becomes the cdk-nag AwsSolutions-IAM5 acknowledgement. */
  wildcardReason?: string;
}

/**
 * Where estate permissions point: the stack whose account the ARNs name (a spoke's is its deploy-time
 * account), the region the role acts in, and the DR region and key of the copies.
 */
export interface EstateScope {
  stack: Stack;
  region: string;
  dr: { region: string; kmsKeyArn?: string };
}

/**
 * Anything that holds IAM statements the capabilities grant: a function's role, a spoke role. Declared here,
 * below both, so a resource's `grant…` methods need not import the function construct that imports the resource.
 */
export interface Grantee {
  /** Add an Allow statement; a wildcard must say why (cdk-nag acknowledgement). */
  allow(p: Permission): void;
  /** Add a Deny statement: a guard that holds even if the code or another Allow is wrong. */
  deny(p: Omit<Permission, 'wildcardReason'>): void;
}

/** Add `p` to `role` as an Allow; each wildcard becomes an AwsSolutions-IAM5 acknowledgement with its reason. */
export const allowOn = (role: Role, p: Permission): void => {
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: p.sid,
      actions: p.actions,
      resources: p.resources,
      conditions: p.conditions,
    }),
  );
  const findings = wildcardFindings(role, p.actions, p.resources);
  if (findings.length && !p.wildcardReason) {
    throw new Error(`Permission ${p.sid} has wildcards (${findings.join(', ')}) but no wildcardReason`);
  }
  for (const f of findings) {
    acknowledge(role, `AwsSolutions-IAM5[${f}]`, `${p.sid}: ${p.wildcardReason}`);
  }
};

/** Add `p` to `role` as a Deny. */
export const denyOn = (role: Role, p: Omit<Permission, 'wildcardReason'>): void => {
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: p.sid,
      effect: Effect.DENY,
      actions: p.actions,
      resources: p.resources,
      conditions: p.conditions,
    }),
  );
};

/**
 * Guards every role that acts on the estate carries, whatever else it allows: calls outside `regions` are
 * refused, and ownership tags are set only when steward creates a resource (tag-on-create is authorized as
 * AddTagsToResource too): anything already carrying them can never be re-tagged, so no role can adopt a
 * snapshot marked steward:managed=false or re-parent one of steward's.
 */
export const denyOutsideOwnership = (to: Grantee, regions: readonly string[]): void => {
  to.deny({
    sid: 'OnlyConfiguredRegions',
    actions: ['*'],
    resources: ['*'],
    conditions: { StringNotEquals: { 'aws:RequestedRegion': [...new Set(regions)] } },
  });
  for (const [sid, tag] of [
    ['NeverRetagManagedResources', Tag.managed],
    ['NeverRetagSourcedResources', Tag.source],
  ] as const) {
    to.deny({
      sid,
      actions: ['rds:AddTagsToResource', 'elasticache:AddTagsToResource'],
      resources: ['*'],
      conditions: { Null: { [`aws:ResourceTag/${tag}`]: 'false' } },
    });
  }
};
