import { type App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Register cdk-nag's AwsSolutions pack as a synthesis validation plugin (cdk-nag v3: the pack is an
 * `IPolicyValidationPlugin`; any unacknowledged error or warning fails `cdk synth`).
 */
export const addAwsSolutionsChecks = (app: App): AwsSolutionsChecks => {
  const pack = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(pack);
  return pack;
};

/** Acknowledge one cdk-nag finding on `scope` and everything below it; the reason is the audit trail. */
export const acknowledge = (scope: IConstruct, id: string, reason: string): void => {
  if (reason.trim().length < 20) throw new Error(`cdk-nag acknowledgement ${id} needs a written reason`);
  Validations.of(scope).acknowledge({ id, reason });
};

// Same flattening cdk-nag applies before it names a finding (`Resource::arn:<AWS::Partition>:...`), so an
// acknowledgement can be derived from the statement it covers instead of being copied from a report.
const flatten = (node: unknown): string => {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (o['Fn::Sub']) return flatten(o['Fn::Sub']);
    if (o['Fn::GetAtt']) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (o['Fn::ImportValue']) return flatten(o['Fn::ImportValue']);
    if (o.Ref) return `<${flatten(o.Ref)}>`;
  }
  return JSON.stringify(node);
};

/** The AwsSolutions-IAM5 finding ids (`Action::x:*`, `Resource::arn...*`) an Allow statement produces. */
export const wildcardFindings = (
  scope: IConstruct,
  actions: readonly string[],
  resources: readonly string[],
) => {
  const stack = Stack.of(scope);
  return [
    ...actions.filter((a) => a.includes('*')).map((a) => `Action::${a}`),
    ...resources
      .map((r) => flatten(stack.resolve(r)))
      .filter((r) => r.includes('*'))
      .map((r) => `Resource::${r}`),
  ];
};
