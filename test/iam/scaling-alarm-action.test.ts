import { runSimulation } from '@cloud-copilot/iam-simulate';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALARM_ACTION_PRINCIPAL } from '../../infra/scaling.js';
import {
  type LambdaPolicy,
  lambdaResourcePolicy,
  SCALING_STAGE_ID,
  scalingStage,
} from '../support/scaling-stage.js';
import type { PolicyDocument } from './template.js';

// `scaling.delivery: lambda-action`: CloudWatch invokes the scaling function as an alarm's action, as the service
// principal lambda.alarms.cloudwatch.amazonaws.com with the alarm's ARN and account (aws:SourceArn,
// aws:SourceAccount; CloudWatch User Guide, "Invoke a Lambda function from an alarm"). Only the function's
// resource-based policy can let it: simulated here as Lambda holds it, built from the synthesized permissions.

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const REGION = 'eu-west-1';
const alarm = (name: string, account = ACCOUNT, region = REGION) =>
  `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;

type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';

describe('the scaling function’s resource policy, lambda-action with 60 rules (half on alarms steward creates)', () => {
  let policy: LambdaPolicy;
  let functionArn: string;
  let names: string[];

  beforeAll(() => {
    const stage = scalingStage(60, { delivery: 'lambda-action', created: (i) => i % 2 === 0 });
    names = stage.names;
    ({ policy, functionArn } = lambdaResourcePolicy(
      stage.template,
      'steward-production-scaling',
      SCALING_STAGE_ID,
      ACCOUNT,
      REGION,
    ));
  });

  /** `principal` invoking the function on behalf of `sourceArn` in `sourceAccount`. */
  const invoke = async (
    sourceArn: string,
    sourceAccount = sourceArn.split(':')[4]!,
    principal = ALARM_ACTION_PRINCIPAL,
  ): Promise<Decision> => {
    const result = await runSimulation(
      {
        request: {
          principal,
          action: 'lambda:InvokeFunction',
          resource: { resource: functionArn, accountId: ACCOUNT },
          contextVariables: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount },
        },
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: policy as unknown as PolicyDocument,
      },
      { simulationMode: 'Strict' },
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult as Decision;
  };

  it('lets every rule’s alarm invoke it, the alarms steward creates and those the team owns', async () => {
    for (const name of names) expect(await invoke(alarm(name)), name).toBe('Allowed');
  });

  it('lets no alarm of another account in (aws:SourceAccount, whatever the alarm’s name), nor of another region', async () => {
    expect(await invoke(alarm(names[0]!, OTHER))).toBe('ImplicitlyDenied');
    // A source ARN that claims this account, from another account: the confused-deputy guard still holds.
    expect(await invoke(alarm(names[0]!), OTHER)).toBe('ImplicitlyDenied');
    expect(await invoke(alarm(names[0]!, ACCOUNT, 'us-east-1'))).toBe('ImplicitlyDenied');
  });

  it('lets no alarm outside the rules’ name prefixes in, and no other service on an alarm’s behalf', async () => {
    expect(await invoke(alarm('payments-db-cpu-high'))).toBe('ImplicitlyDenied');
    expect(await invoke(alarm(names[0]!), ACCOUNT, 'events.amazonaws.com')).toBe('ImplicitlyDenied');
  });
});
