import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drKeyPolicyStatement, drKeyServices } from '../../infra/backup.js';
import { type ExampleStage, exampleInput, exampleStages } from '../support/examples.js';
import { SCALING_FLEET_CONFIG } from '../support/fleet.js';
import { CALLS_DIR, ROOT, type RecordedCall } from '../support/sdk-recorder.js';
import { adapterOf, adaptersOf, functionNames, rolesFor } from './attribution.js';
import { fullConfig } from './full-config.js';
import { stateMachinesLoggingData, unguardedServicePrincipals } from './guards.js';
import { lintPolicy } from './lint.js';
import { knownResiduals, negativeMatrix } from './negative.js';
import { drKey, type IamRequest, platformRequests, requestsFor, serviceRoleRequests } from './requests.js';
import { simulate, type Verdict } from './simulate.js';
import { type Deployment, type PolicyStatement, synthesize } from './template.js';

/**
 * IAM, proven offline: every SDK call the other tests recorded (test/support/sdk-recorder.ts), mapped to the
 * IAM requests AWS authorizes for it, simulated against the synthesized roles of every stage and of a config
 * with every branch on; the negative matrix must be denied; every statement must mean what it says by the
 * Service Authorization Reference. Runs after the other tests (vitest project `iam`).
 *
 * The deployments are simulated in files of their own (iam-examples, iam-full, and the fleet hub in iam.test.ts
 * with the checks on the recorded calls themselves), which vitest runs side by side.
 */

/** Every SDK call the other tests recorded. */
export const loadCalls = (): RecordedCall[] => {
  if (!existsSync(CALLS_DIR)) return [];
  return (
    readdirSync(CALLS_DIR)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) =>
        readFileSync(join(CALLS_DIR, f), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as RecordedCall),
      )
      // A deleted or renamed test leaves its old record behind.
      .filter((c) => existsSync(join(ROOT, c.test)))
  );
};

/** The adapter factories each function's handler reaches, by function (= role) name. */
export const functionAdapters = (): Map<string, Set<string>> =>
  new Map(functionNames().map((fn) => [fn, adaptersOf(fn)]));

/** Every deployment the suite simulates: the example stages, the config with every branch on, a fleet hub. */
export const EVERY_DEPLOYMENT = [...exampleStages, 'full', 'fleet'] as const;
export type DeploymentName = (typeof EVERY_DEPLOYMENT)[number];

/** One deployment of EVERY_DEPLOYMENT, synthesized. */
export const deploy = (name: DeploymentName): Deployment =>
  name === 'full'
    ? synthesize('full', fullConfig)
    : name === 'fleet'
      ? // A hub with spokes: the fan-out's AssumeRole and its summary's reads, and the scaling of a forwarded
        // alarm (the spoke scaling role), are simulated here.
        synthesize('fleet', SCALING_FLEET_CONFIG, SCALING_FLEET_CONFIG.account)
      : synthesize(name, exampleInput(name as ExampleStage));

/** The statement the stack prints for the DR key's policy, as the key's resource policy in the simulation. */
export const drKeyPolicyFor = (d: Deployment) => {
  const backup = d.roles.get('backup');
  const key = drKey(d);
  if (!backup || !key) return undefined;
  return {
    Version: '2012-10-17',
    Statement: drKeyPolicyStatement(backup.arn, d.config.dr.region, drKeyServices(d.config)),
  };
};

/**
 * A KMS key always needs its key policy to allow: the stack's own keys have theirs in the template; a key
 * steward does not manage (a database's or a secret's customer managed key) is assumed to keep the default
 * policy that delegates to the account's IAM policies; the DR key's statement comes with the request.
 */
const withResourcePolicy = (d: Deployment, r: IamRequest): IamRequest => {
  if (r.resourcePolicy || !r.action.startsWith('kms:')) return r;
  const account = r.resource.split(':')[4]!;
  return {
    ...r,
    resourcePolicy: d.keyPolicies.get(r.resource) ?? {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DefaultKeyPolicyDelegatesToIam',
          Effect: 'Allow',
          Principal: { AWS: `arn:${d.partition}:iam::${account}:root` },
          Action: 'kms:*',
          Resource: '*',
        } as PolicyStatement,
      ],
    },
  };
};

/** Values the caller of an adapter chooses (tags, partition keys, object keys): an adapter test makes them up. */
const callerChosen = (c: RecordedCall) =>
  'Tags' in (c.input as object) || c.client === 'DynamoDBDocumentClient' || c.client === 'S3Client';
/**
 * A call that went through code above the adapters (a service, a handler): its values are the code's. The
 * retry helper (shared/retry.ts) runs inside adapters too, so its frames are not a service's.
 */
const throughService = (c: RecordedCall) =>
  c.frames.some((f) => !/^shared\/(aws|notify)\//.test(f) && !f.startsWith('shared/retry.ts:'));

const describeVerdict = (r: IamRequest, v: Verdict) =>
  `${r.label}: ${r.action} on ${r.resource} → ${v.decision}${v.by.length ? ` by ${v.by.join(', ')}` : ''}${v.dropped.length ? ` (context not carried: ${v.dropped.join(', ')})` : ''}`;

// A deployment's simulations are a few thousand CPU-bound calls of the simulator (the full config's about 2 700),
// which took over vitest's 60 s when eight test runs shared the machine's two cores.
const SIMULATIONS_TIMEOUT = 300_000;

interface RoleFigures {
  calls: number;
  requests: number;
  allowed: number;
  denied: string[];
  expectedDenials: number;
  expectedDenied: number;
  wronglyAllowed: string[];
}

/** What a file's simulation loaded before its tests: read inside a test. */
export interface Simulated {
  calls: () => RecordedCall[];
  adapters: () => Map<string, Set<string>>;
  deployment: (name: DeploymentName) => Deployment;
}

/**
 * Simulates each named deployment (`describe('Steward-<name>')`, six tests each) against every recorded call,
 * and writes its figures to `.steward/iam/report/<name>.txt` after the file.
 */
export const simulateDeployments = (names: readonly DeploymentName[]): Simulated => {
  let calls: RecordedCall[];
  let adapters: Map<string, Set<string>>;
  const deployments = new Map<DeploymentName, Deployment>();
  const figures = new Map<string, Map<string, RoleFigures>>();

  const figuresOf = (d: Deployment, role: string): RoleFigures => {
    let byRole = figures.get(d.name);
    if (!byRole) figures.set(d.name, (byRole = new Map()));
    let f = byRole.get(role);
    if (!f) {
      byRole.set(
        role,
        (f = {
          calls: 0,
          requests: 0,
          allowed: 0,
          denied: [],
          expectedDenials: 0,
          expectedDenied: 0,
          wronglyAllowed: [],
        }),
      );
    }
    return f;
  };

  beforeAll(() => {
    calls = loadCalls();
    adapters = functionAdapters();
    for (const name of names) deployments.set(name, deploy(name));
  });

  describe.each(names)('Steward-%s', (name) => {
    const deployment = () => deployments.get(name)!;

    it(
      'allows every request the code makes (zero needed calls denied)',
      async () => {
        const d = deployment();
        const drKeyPolicy = drKeyPolicyFor(d);
        const attributed = calls.filter((c) => adapterOf(c));
        const denied: string[] = [];
        for (const [role, r] of d.roles) {
          const f = figuresOf(d, role);
          const requests = new Map<string, IamRequest>();
          const add = (x: IamRequest) => requests.set(JSON.stringify([x.action, x.resource, x.context]), x);
          const mine = attributed.filter((c) => rolesFor(c, adapters).includes(role));
          for (const c of mine) {
            // Tags and keys an adapter test made up are not the code's: those commands are simulated with
            // what the service sends (a test through the service must exist).
            if (callerChosen(c) && !throughService(c)) {
              const viaService = mine.some(
                (o) => o.client === c.client && o.command === c.command && throughService(o),
              );
              if (!viaService)
                denied.push(
                  `${role}: ${c.command} is sent only by adapter tests (${c.test}): add a test through its service`,
                );
              continue;
            }
            const bound = requestsFor(c, d, role, drKeyPolicy);
            if (bound.length) f.calls++;
            bound.forEach(add);
          }
          platformRequests(d, role).forEach(add);
          serviceRoleRequests(d, r).forEach(add);
          for (const x of requests.values()) {
            // AWS's public parameters have ARNs without an account, which the simulator refuses: the statement
            // that allows one is checked as written (as test/iam/ebs-verifier.test.ts does).
            if (x.action === 'ssm:GetParameters' && x.resource.includes('::parameter/aws/service/')) {
              f.requests++;
              const granted = r.policy.Statement.some(
                (st) => st.Effect === 'Allow' && [st.Resource].flat().includes(x.resource),
              );
              if (granted) f.allowed++;
              else denied.push(`${role}: ${x.label}: ${x.action} on ${x.resource} → not granted as written`);
              continue;
            }
            const v = await simulate(r.arn, r.policy, withResourcePolicy(d, x), d.account, d.region);
            f.requests++;
            if (v.decision === 'Allowed') f.allowed++;
            else {
              f.denied.push(describeVerdict(x, v));
              denied.push(`${role}: ${describeVerdict(x, v)}`);
            }
          }
        }
        expect(denied).toEqual([]);
      },
      SIMULATIONS_TIMEOUT,
    );

    it(
      'denies every case of the negative matrix',
      async () => {
        const d = deployment();
        const allowed: string[] = [];
        for (const { role, request } of negativeMatrix(d)) {
          const r = d.roles.get(role)!;
          const f = figuresOf(d, role);
          f.expectedDenials++;
          const v = await simulate(r.arn, r.policy, withResourcePolicy(d, request), d.account, d.region);
          if (v.decision === 'Allowed') {
            f.wronglyAllowed.push(describeVerdict(request, v));
            allowed.push(`${role}: ${describeVerdict(request, v)}`);
          } else f.expectedDenied++;
        }
        expect(allowed).toEqual([]);
      },
      SIMULATIONS_TIMEOUT,
    );

    it('still allows only the documented residual: tagging an untagged resource named as steward names its own', async () => {
      const d = deployment();
      for (const { role, request } of knownResiduals(d)) {
        const r = d.roles.get(role)!;
        expect(
          (await simulate(r.arn, r.policy, withResourcePolicy(d, request), d.account, d.region)).decision,
          request.label,
        ).toBe('Allowed');
      }
    });

    it('guards every service principal with aws:SourceAccount or aws:SourceArn (confused deputy)', () => {
      expect(unguardedServicePrincipals(deployment().template)).toEqual([]);
    });

    it('logs drill executions without their data (task tokens, endpoints, user names)', () => {
      expect(stateMachinesLoggingData(deployment().template)).toEqual([]);
    });

    it('has no statement that cannot mean what it says by the Service Authorization Reference', async () => {
      const d = deployment();
      const findings: string[] = [];
      for (const [role, r] of d.roles) {
        for (const f of await lintPolicy(r.policy))
          findings.push(`${role} ${f.sid}: ${f.problem}: ${f.detail}`);
      }
      expect(findings).toEqual([]);
    });
  });

  afterAll(() => {
    for (const [stage, byRole] of figures) writeReport(stage, byRole);
  });
  return { calls: () => calls, adapters: () => adapters, deployment: (name) => deployments.get(name)! };
};

/** One deployment's figures per role, printed and written to `.steward/iam/report/<stage>.txt`. */
const writeReport = (stage: string, byRole: Map<string, RoleFigures>) => {
  const rows = [
    ['stage', 'role', 'calls', 'requests', 'allowed', 'denied', 'expected denials', 'denied as expected'],
  ];
  for (const [role, f] of [...byRole].sort(([a], [b]) => a.localeCompare(b))) {
    rows.push([
      stage,
      role,
      String(f.calls),
      String(f.requests),
      String(f.allowed),
      String(f.denied.length),
      String(f.expectedDenials),
      String(f.expectedDenied),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows
    .map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
  const details = [...byRole].flatMap(([role, f]) => [
    ...f.denied.map((x) => `DENIED (needed) ${stage} ${role}: ${x}`),
    ...f.wronglyAllowed.map((x) => `ALLOWED (must be denied) ${stage} ${role}: ${x}`),
  ]);
  const dir = join(ROOT, '.steward', 'iam', 'report');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${stage}.txt`);
  writeFileSync(file, `${table}\n${details.length ? `\n${details.join('\n')}\n` : ''}`);
  console.log(`IAM simulation of ${stage} (details: ${file.slice(ROOT.length)})\n${table}`);
};
