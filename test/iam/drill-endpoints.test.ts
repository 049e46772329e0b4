import {
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2DrillEndpoints, sfnRunningDrills } from '../../shared/aws/drill-endpoints.js';
import type { StewardConfigInput } from '../../shared/config/schema.js';
import { type EndpointKey, endpointTags, type EndpointSpec } from '../../shared/drill/endpoints.js';
import type { RecordedCall } from '../support/sdk-recorder.js';
import { lintPolicy } from './lint.js';
import { drillEndpointDenials } from './negative.js';
import { binderFor, drillEndpointSpec, type IamRequest, requestTags } from './requests.js';
import { simulate } from './simulate.js';
import { type Deployment, type RoleUnderTest, synthesize } from './template.js';

// A stage whose drills create their interface endpoints for their own duration (`drill.endpoints.mode:
// per-drill`, the default): a target that logs in with a secret (Secrets Manager) and an EBS drill with a
// verifier (the three Systems Manager endpoints). The drill function's role, which runs the drill steps
// (OpenEndpoints, CheckEndpoints, CloseEndpoints) and the janitor's idle sweep alike, is simulated with the
// requests the EC2 and Step Functions adapters really send (captured from them, not written by hand), and
// with everything it must not do (test/iam/negative.ts, also part of the full suite's negative matrix).
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const profile = { database: 'app' };
const PER_DRILL = {
  stage: 'endpoints',
  region: REGION,
  account: ACCOUNT,
  drill: {
    enabled: true,
    targets: { 'orders-db': { kind: 'rds-instance', auth: 'secret', profile } },
    volumes: { 'i-0a1b2c3d4e5f60718': { verify: { command: 'fsck -n /dev/sdf1' } } },
  },
} satisfies StewardConfigInput;

let d: Deployment;
let drill: RoleUnderTest;
let spec: EndpointSpec;

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
// The IAM files share a process (vitest project `iam`, `isolate: false`): the clients are left as they were.
afterAll(() => {
  ec2.restore();
  sfn.restore();
});

/** What the adapter sent, as the recorder would have recorded it. */
const recorded = (client: string, command: string, input: unknown, frame: string): RecordedCall => ({
  client,
  command,
  input,
  region: REGION,
  frames: [`shared/aws/drill-endpoints.ts:${frame}`],
  test: 'test/iam/drill-endpoints.test.ts',
  mocked: true,
});
const bound = (c: RecordedCall) => binderFor(c)!(c, d, 'drill');
const decide = async (role: RoleUnderTest, r: IamRequest) =>
  (await simulate(role.arn, role.policy, r, ACCOUNT, REGION)).decision;

/** The IAM requests of every call the drill and the janitor make for endpoints, from the adapters themselves. */
const adapterRequests = async (): Promise<IamRequest[]> => {
  ec2.reset();
  sfn.reset();
  ec2.on(CreateVpcEndpointCommand).callsFake((input: { ServiceName: string }) => ({
    VpcEndpoint: {
      VpcEndpointId: 'vpce-0a1b2c3d4e5f60718',
      ServiceName: input.ServiceName,
      State: 'pending',
    },
  }));
  ec2.on(DeleteVpcEndpointsCommand).resolves({ Unsuccessful: [] });
  ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  const port = ec2DrillEndpoints(new EC2Client({ region: REGION }), spec.vpcId);
  const keys = Object.keys(spec.endpoints) as EndpointKey[];
  for (const key of keys) {
    await port.create({
      ...spec.endpoints[key]!,
      key,
      clientToken: `steward-${key}`,
      tags: endpointTags(key, 'steward-endpoints-drill-1'),
    });
  }
  await port.list(keys.map((k) => spec.endpoints[k]!.serviceName));
  await port.remove({ id: 'vpce-0a1b2c3d4e5f60718', tags: endpointTags('ssm', 'steward-endpoints-drill-1') });
  await sfnRunningDrills(new SFNClient({ region: REGION }), 'arn:x').running();
  const calls = [
    ...ec2
      .commandCalls(CreateVpcEndpointCommand)
      .map((x) => recorded('EC2Client', 'CreateVpcEndpoint', x.args[0].input, 'create')),
    ...ec2
      .commandCalls(DescribeVpcEndpointsCommand)
      .map((x) => recorded('EC2Client', 'DescribeVpcEndpoints', x.args[0].input, 'list')),
    ...ec2
      .commandCalls(DeleteVpcEndpointsCommand)
      .map((x) => recorded('EC2Client', 'DeleteVpcEndpoints', x.args[0].input, 'remove')),
    ...sfn
      .commandCalls(ListExecutionsCommand)
      .map((x) => recorded('SFNClient', 'ListExecutions', x.args[0].input, 'running')),
  ];
  expect(calls.map((c) => c.command)).toEqual([
    ...keys.map(() => 'CreateVpcEndpoint'),
    'DescribeVpcEndpoints',
    'DeleteVpcEndpoints',
    'ListExecutions',
  ]);
  return calls.flatMap(bound);
};

beforeAll(() => {
  d = synthesize('per-drill-endpoints', PER_DRILL);
  drill = d.roles.get('drill')!;
  spec = drillEndpointSpec(d)!;
});

describe('per-drill endpoints IAM (drill steps and janitor)', () => {
  it('deploys a placement for each endpoint a drill needs, in the drill VPC', () => {
    expect(Object.keys(spec.endpoints)).toEqual(['secretsmanager', 'ssm', 'ec2messages', 'ssmmessages']);
    expect(spec.vpcId).toMatch(/^vpc-/);
  });

  it('allows every request the adapters make: create (VPC, subnets, groups, tag on create), list, delete, running drills', async () => {
    const requests = await adapterRequests();
    // Per service: the new endpoint, the VPC, each subnet and group, and CreateTags (tag on create).
    const perCreate = (k: EndpointKey) =>
      3 + spec.endpoints[k]!.subnetIds.length + spec.endpoints[k]!.securityGroupIds.length;
    expect(requests).toHaveLength(
      (Object.keys(spec.endpoints) as EndpointKey[]).reduce((n, k) => n + perCreate(k), 0) + 3,
    );
    for (const r of requests) expect(await decide(drill, r), r.label).toBe('Allowed');
  });

  it('denies an endpoint steward did not tag, another service, VPC, subnet or group, adopting, deleting or modifying one not a drill’s, Route 53', async () => {
    const denials = drillEndpointDenials(d);
    expect(denials.length).toBeGreaterThanOrEqual(20);
    const allowed: string[] = [];
    for (const r of denials) if ((await decide(drill, r)) === 'Allowed') allowed.push(r.label);
    expect(allowed).toEqual([]);
  });

  it('gives no other role of the stage any endpoint write', async () => {
    const endpoint = `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc-endpoint/vpce-0a1b2c3d4e5f60718`;
    const tags = endpointTags('secretsmanager', 'x');
    const service = spec.endpoints.secretsmanager!.serviceName;
    const writes: IamRequest[] = [
      {
        action: 'ec2:CreateVpcEndpoint',
        resource: endpoint,
        context: { ...requestTags(tags), 'ec2:VpceServiceName': service },
        label: 'create',
      },
      {
        action: 'ec2:DeleteVpcEndpoints',
        resource: endpoint,
        context: { [`aws:ResourceTag/steward:managed`]: 'true', 'ec2:VpceServiceName': service },
        label: 'delete',
      },
    ];
    const allowed: string[] = [];
    for (const [name, role] of d.roles) {
      if (name === 'drill') continue;
      for (const r of writes) if ((await decide(role, r)) === 'Allowed') allowed.push(`${name}: ${r.label}`);
    }
    expect(allowed).toEqual([]);
  });

  it('has statements that mean what they say by the Service Authorization Reference', async () => {
    expect(await lintPolicy(drill.policy)).toEqual([]);
  });
});

describe('always-on endpoints (drill.endpoints.mode: always-on)', () => {
  it('deploys the endpoints with the stack and gives the drill role no endpoint grant at all', async () => {
    const always = synthesize('always-on-endpoints', {
      ...PER_DRILL,
      stage: 'always',
      drill: { ...PER_DRILL.drill, endpoints: { mode: 'always-on' } },
    });
    expect(drillEndpointSpec(always)).toBeUndefined();
    const role = always.roles.get('drill')!;
    const actions = role.policy.Statement.flatMap((s) => [s.Action ?? []].flat());
    expect(actions.filter((a) => /VpcEndpoint|ListExecutions/.test(a))).toEqual([]);
  });
});
