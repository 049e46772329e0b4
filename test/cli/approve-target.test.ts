import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { SCALING_FLEET_CONFIG } from '../support/fleet.js';
import { ownTmpDir, removeOwnTmpDir } from '../support/own-tmp.js';

// `steward approve <id> --target`: an approval asked for in a spoke is executed by the hub's deployed scaling
// function (only its role may act in the spoke), which the CLI invokes with the payload the message gives.
const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
const ddb = mockClient(DynamoDBDocumentClient);
const ID = 'e34135da0d95';
/** A response payload as the SDK types it (a Uint8Array with string helpers); the CLI reads the bytes only. */
const payload = (v: unknown) => Buffer.from(JSON.stringify(v)) as unknown as InvokeCommandOutput['Payload'];

const result = {
  action: 'approve',
  dryRun: false,
  summary: 'billing-cpu: modify billing class db.r6g.large → db.r6g.xlarge',
  decisions: [
    {
      status: 'done',
      rule: 'billing-cpu',
      alarmName: 'billing-cpu-high',
      resource: 'billing',
      mode: 'approve',
      decision: {
        verdict: 'act',
        reason: 'approved',
        change: {
          type: 'rds.modifyClass',
          dbInstanceId: 'billing',
          from: 'db.r6g.large',
          to: 'db.r6g.xlarge',
        },
      },
    },
  ],
  outcomes: [],
};

let dir: string;
beforeAll(() => {
  dir = ownTmpDir('steward-cli-approve');
  writeFileSync(join(dir, 'steward.prod.yaml'), JSON.stringify(SCALING_FLEET_CONFIG));
});
afterAll(() => removeOwnTmpDir(dir));
beforeEach(() => {
  sts.reset();
  lambda.reset();
  ddb.reset();
  ddb.on(GetCommand).resolves({});
  vi.spyOn(console, 'error').mockImplementation(() => {});
  sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: '111111111111', Arn: 'arn:aws:iam::111111111111:user/ops' });
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload(result) });
});

const cli = async (...argv: string[]) => {
  const out: string[] = [];
  const code = await main(['approve', ID, ...argv, '--config', dir], (s) => out.push(s));
  return { code, out: out.join('\n') };
};

describe('steward approve <id> --target', () => {
  it("invokes the hub's scaling function with the approval's target, and prints what it did", async () => {
    // Act
    const { code, out } = await cli('--target', '222222222222/eu-central-1');

    // Assert
    expect(code).toBe(0);
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    const input = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ FunctionName: 'steward-prod-scaling', InvocationType: 'RequestResponse' });
    expect(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'))).toEqual({
      action: 'approve',
      id: ID,
      target: {
        index: 1,
        account: '222222222222',
        region: 'eu-central-1',
        roleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-scaling-eu-central-1',
        externalId: 'steward-prod-fleet',
      },
    });
    expect(await (lambda.commandCalls(InvokeCommand)[0]!.thisValue as LambdaClient).config.region()).toBe(
      'eu-west-1',
    );
    expect(out).toMatch(/DONE\s+billing-cpu\s+billing-cpu-high\s+billing\s+approve/);
  });

  it("takes --account and --region, an OU's account included, and passes --dry-run on", async () => {
    // Act
    const { code } = await cli('--account', '444444444444', '--region', 'eu-central-1', '--dry-run');

    // Assert
    expect(code).toBe(0);
    const payload = JSON.parse(
      Buffer.from(lambda.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array).toString(
        'utf8',
      ),
    ) as { dryRun?: boolean; target: { index: number; roleArn: string } };
    expect(payload.dryRun).toBe(true);
    expect(payload.target).toMatchObject({
      index: 3,
      roleArn: 'arn:aws:iam::444444444444:role/steward-prod-spoke-scaling-eu-central-1',
    });
  });

  it('refuses credentials of another account than the hub, invoking nothing', async () => {
    // Prepare
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '222222222222', Arn: 'arn:aws:iam::222222222222:user/x' });
    // Act
    const { code } = await cli('--target', '222222222222/eu-central-1', '--json');
    // Assert
    expect(code).toBe(2);
    expect(lambda.calls()).toEqual([]);
  });

  it("reports the function's own failure by its type and message", async () => {
    // Prepare
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({
        errorType: 'PartialFailureError',
        errorMessage: 'scaling approve: 1 of 1 actions failed',
      }),
    });
    const lines: string[] = [];
    // Act
    const code = await main(
      ['approve', ID, '--target', '222222222222/eu-central-1', '--config', dir, '--json'],
      (s) => lines.push(s),
    );
    // Assert
    expect(code).not.toBe(0);
    expect(lines.join('\n')).toMatch(
      /steward-prod-scaling failed: PartialFailureError: scaling approve: 1 of 1 actions failed/,
    );
  });

  it('a hub where the scaling function is not deployed: says which function, account and region, and how to deploy', async () => {
    // Prepare
    const notFound = Object.assign(new Error('Function not found: steward-prod-scaling'), {
      name: 'ResourceNotFoundException',
    });
    lambda.on(InvokeCommand).rejects(notFound);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});

    // Act
    const { code } = await cli('--target', '222222222222/eu-central-1');

    // Assert
    expect(code).toBe(1);
    const said = errors.mock.calls.map((c) => String(c[0])).join('\n');
    expect(said).toContain(
      `steward: StageNotDeployed: not found in AWS: function steward-prod-scaling (stack Steward-prod) in account 111111111111, region eu-west-1: is stage prod deployed there? (npx cdk deploy --all -c config=${dir} -c stage=prod)`,
    );
    expect(said).toContain('cause: AwsCallError: Invoke failed for function steward-prod-scaling');
    // One hint, not a second generic one.
    expect(said.match(/not found in AWS/g)).toHaveLength(1);
  });

  it("without --target (or with the hub's own) approves locally, as before", async () => {
    // Act: the hub's table holds no such approval, which the local run reports without invoking anything
    const { out } = await cli('--target', '0', '--json', '--dry-run');
    // Assert
    expect(lambda.calls()).toEqual([]);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { Key: { pk: `scaling-approval#${ID}` } });
    expect(out).toMatch(/approval/i);
  });
});
