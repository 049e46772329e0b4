import type { DrillEndpointsDeps } from '../../shared/drill/endpoint-tasks.js';
import {
  type EndpointKey,
  type EndpointSpec,
  isDrillEndpoint,
  type VpcEndpointInfo,
} from '../../shared/drill/endpoints.js';
import { AwsCallError, GuardRefusedError } from '../../shared/errors.js';

export const FAKE_VPC = 'vpc-0drill1234';
export const serviceNameOf = (key: EndpointKey, region = 'eu-west-1') => `com.amazonaws.${region}.${key}`;

/** A spec as the construct writes it: every endpoint key, in the drill VPC's subnets, behind one group each. */
export const fakeEndpointSpec = (region = 'eu-west-1'): EndpointSpec => ({
  vpcId: FAKE_VPC,
  endpoints: {
    secretsmanager: {
      serviceName: serviceNameOf('secretsmanager', region),
      subnetIds: ['subnet-0a1', 'subnet-0b2'],
      securityGroupIds: ['sg-0secrets'],
      readers: ['arn:aws:iam::111122223333:role/verifier'],
    },
    ...Object.fromEntries(
      (['ssm', 'ec2messages', 'ssmmessages'] as const).map((k) => [
        k,
        { serviceName: serviceNameOf(k, region), subnetIds: ['subnet-0a1'], securityGroupIds: ['sg-0ssm'] },
      ]),
    ),
  },
});

export interface FakeEndpointsOptions {
  /** A created endpoint is `pending` for this many list calls, then `available` (default 1). */
  availableAfterLists?: number;
  /** It never becomes available. */
  neverAvailable?: boolean;
  /** CreateVpcEndpoint fails (e.g. the endpoint quota, or IAM). */
  failCreate?: boolean;
  /** DeleteVpcEndpoints refuses (e.g. IAM). */
  refuseDelete?: boolean;
  /** Endpoints already in the VPC (someone else's, or a previous drill's). */
  existing?: VpcEndpointInfo[];
  /** The drill executions running besides the one under test. */
  running?: () => string[];
}

export type FakeEndpoints = DrillEndpointsDeps & {
  /** Every endpoint ever seen, by id (deleted ones stay, state `deleted`). */
  all: Map<string, VpcEndpointInfo & { lists: number }>;
  log: string[];
  /** The endpoints not deleted. */
  live: () => VpcEndpointInfo[];
};

/** The drill VPC's endpoints in memory; private DNS allows one live endpoint per service, as in AWS. */
export const fakeEndpoints = (o: FakeEndpointsOptions = {}, region = 'eu-west-1'): FakeEndpoints => {
  const all = new Map<string, VpcEndpointInfo & { lists: number }>();
  for (const e of o.existing ?? []) all.set(e.id, { ...e, lists: 0 });
  const log: string[] = [];
  const tokens = new Map<string, string>();
  let n = 0;
  const live = () => [...all.values()].filter((e) => e.state !== 'deleted');
  return {
    all,
    log,
    live,
    spec: fakeEndpointSpec(region),
    drills: { running: async () => o.running?.() ?? [] },
    port: {
      list: async (names) => {
        const out: VpcEndpointInfo[] = [];
        for (const e of all.values()) {
          if (!names.includes(e.serviceName)) continue;
          e.lists++;
          if (e.state === 'pending' && !o.neverAvailable && e.lists > (o.availableAfterLists ?? 1))
            e.state = 'available';
          const { lists: _l, ...info } = e;
          out.push(info);
        }
        log.push(`list ${names.length}`);
        return out;
      },
      create: async (r) => {
        log.push(`create ${r.key}`);
        if (o.failCreate)
          throw new AwsCallError(
            'CreateVpcEndpoint',
            r.serviceName,
            Object.assign(new Error('VpcEndpointLimitExceeded'), { name: 'VpcEndpointLimitExceeded' }),
          );
        const again = tokens.get(r.clientToken);
        if (again) return { created: { ...all.get(again)! } };
        const clash = live().find((e) => e.serviceName === r.serviceName && e.privateDns);
        if (clash)
          return {
            conflict: `the VPC already has an endpoint with private DNS for ${r.serviceName} (${clash.id} ${clash.state})`,
          };
        const e = {
          id: `vpce-0fake${++n}`,
          serviceName: r.serviceName,
          state: 'pending',
          privateDns: true,
          createdAt: new Date().toISOString(),
          tags: r.tags,
          lists: 0,
        };
        all.set(e.id, e);
        tokens.set(r.clientToken, e.id);
        const { lists: _l, ...info } = e;
        return { created: info };
      },
      remove: async (e) => {
        log.push(`delete ${e.id}`);
        if (!isDrillEndpoint(e.tags)) throw new GuardRefusedError(`refusing to delete ${e.id}`);
        if (o.refuseDelete)
          throw new AwsCallError(
            'DeleteVpcEndpoints',
            e.id,
            Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }),
          );
        const found = all.get(e.id);
        if (!found || found.state === 'deleted') return 'already-gone';
        found.state = 'deleted';
        return 'deleted';
      },
    },
  };
};
