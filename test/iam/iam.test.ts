import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drKeyPolicyStatement, drKeyServices } from '../../infra/backup.js';
import { exampleInput, exampleStages } from '../support/examples.js';
import { CALLS_DIR, ROOT, type RecordedCall } from '../support/sdk-recorder.js';
import {
  adapterOf,
  adaptersOf,
  assumedBy,
  contradictedExclusions,
  functionNames,
  rolesFor,
  UNWIRED,
} from './attribution.js';
import { SCALING_FLEET_CONFIG } from '../support/fleet.js';
import { fullConfig } from './full-config.js';
import { stateMachinesLoggingData, unguardedServicePrincipals } from './guards.js';
import { lintPolicy } from './lint.js';
import { knownResiduals, negativeMatrix } from './negative.js';
import {
  binderFor,
  drKey,
  type IamRequest,
  platformRequests,
  requestsFor,
  serviceRoleRequests,
} from './requests.js';
import { simulate, type Verdict } from './simulate.js';
import { type Deployment, type PolicyStatement, synthesize } from './template.js';

/**
 * IAM, proven offline: every SDK call the other tests recorded (test/support/sdk-recorder.ts), mapped to
 * the IAM requests AWS authorizes for it, simulated against the synthesized roles of every stage and of
 * a config with every branch on; the negative matrix must be denied; every statement must mean what it
 * says by the Service Authorization Reference. Runs after the other tests (vitest project `iam`).
 */

const loadCalls = (): RecordedCall[] => {
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

/** `(client, command)` of every SDK command the shipped code imports (commands and paginators). */
const commandsInCode = (): Set<string> => {
  const out = new Set<string>();
  const clientOf: Record<string, string> = {
    'client-rds': 'RDSClient',
    'client-ec2': 'EC2Client',
    'client-resource-groups-tagging-api': 'ResourceGroupsTaggingAPIClient',
    'client-elasticache': 'ElastiCacheClient',
    'client-sns': 'SNSClient',
    'client-cost-explorer': 'CostExplorerClient',
    'client-s3': 'S3Client',
    'client-secrets-manager': 'SecretsManagerClient',
    'client-sfn': 'SFNClient',
    'client-cloudwatch': 'CloudWatchClient',
    'client-scheduler': 'SchedulerClient',
    'client-dynamodb': 'DynamoDBClient',
    'client-eventbridge': 'EventBridgeClient',
    'client-sts': 'STSClient',
    'client-organizations': 'OrganizationsClient',
    'client-ssm': 'SSMClient',
    // The drill's relay to the DR region's cache verifier; the CLI's `steward approve --target` uses it too.
    'client-lambda': 'LambdaClient',
    'lib-dynamodb': 'DynamoDBDocumentClient',
    // Signs IAM database authentication tokens: the request it stands for is rds-db:connect.
    'rds-signer': 'Signer',
  };
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  for (const file of [...walk('shared'), ...walk('functions')]) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/([^']+)'/g)) {
      const client = clientOf[m[2]!];
      if (!client) throw new Error(`${file}: unknown SDK package @aws-sdk/${m[2]}`);
      for (const name of m[1]!
        .split(',')
        .map((n) => n.trim())
        .filter((n) => !n.startsWith('type '))) {
        const command =
          client === 'Signer' && name === 'Signer'
            ? 'connect'
            : (/^(\w+)Command$/.exec(name)?.[1] ?? /^paginate(\w+)$/.exec(name)?.[1]);
        if (command) out.add(`${client}:${command}`);
      }
    }
  }
  return out;
};

interface RoleFigures {
  calls: number;
  requests: number;
  allowed: number;
  denied: string[];
  expectedDenials: number;
  expectedDenied: number;
  wronglyAllowed: string[];
}

let calls: RecordedCall[];
let deployments: Deployment[];
const adapters = new Map<string, Set<string>>();
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

const describeVerdict = (r: IamRequest, v: Verdict) =>
  `${r.label}: ${r.action} on ${r.resource} → ${v.decision}${v.by.length ? ` by ${v.by.join(', ')}` : ''}${v.dropped.length ? ` (context not carried: ${v.dropped.join(', ')})` : ''}`;

beforeAll(() => {
  calls = loadCalls();
  deployments = [
    ...exampleStages.map((s) => synthesize(s, exampleInput(s))),
    synthesize('full', fullConfig),
    // A hub with spokes: the fan-out's AssumeRole and its summary's reads, and the scaling of a forwarded
    // alarm (the spoke scaling role), are simulated here.
    synthesize('fleet', SCALING_FLEET_CONFIG, SCALING_FLEET_CONFIG.account),
  ];
  for (const fn of functionNames()) adapters.set(fn, adaptersOf(fn));
});

describe('the recorded calls', () => {
  it('exist: the other tests ran first and recorded what the code sends', () => {
    expect(
      calls.length,
      'no recorded SDK calls: run `npm test` (the IAM suite runs after the others)',
    ).toBeGreaterThan(0);
  });

  it('cover every SDK command in shared/ and functions/: a new call cannot ship unsimulated', () => {
    // Act
    const recorded = new Set(calls.filter((c) => adapterOf(c)).map((c) => `${c.client}:${c.command}`));
    const missing = [...commandsInCode()].filter((c) => !recorded.has(c)).sort();
    // Assert
    expect(missing, 'commands the code imports that no test sends (add a test that sends them)').toEqual([]);
  });

  it('each belong to a function role, and no handler-recorded call contradicts an exclusion', () => {
    const orphans = calls
      .filter(
        (c) => adapterOf(c) && !rolesFor(c, adapters).length && !UNWIRED[adapterOf(c)!] && !assumedBy(c),
      )
      .map((c) => `${c.command} from ${adapterOf(c)} (${c.test})`);
    expect(orphans).toEqual([]);
    // An adapter a handler imports is wired: it must leave UNWIRED and be allowed by that role.
    const wired = [...adapters].flatMap(([fn, a]) =>
      Object.keys(UNWIRED)
        .filter((u) => a.has(u))
        .map((u) => `${fn} imports ${u}`),
    );
    expect(wired, 'UNWIRED adapters a handler imports').toEqual([]);
    expect(contradictedExclusions(calls)).toEqual([]);
  });

  it('each map to IAM requests that bind in the deployment with every branch on', () => {
    const full = deployments.find((d) => d.name === 'full')!;
    const unmapped = [
      ...new Set(calls.filter((c) => adapterOf(c) && !binderFor(c)).map((c) => `${c.client}:${c.command}`)),
    ];
    expect(unmapped, 'commands without an IAM mapping in test/iam/requests.ts').toEqual([]);
    // The fan-out's calls (AssumeRole, reads of the Map Run export) exist only on a hub with spokes.
    const fleet = deployments.find((d) => d.name === 'fleet')!;
    // A vault role's AssumeRole binds on the full config, which has the vault.
    const vaultRole = (c: RecordedCall) =>
      /:role\/steward-[^/]+-vault-(copy|retention|drill)-/.test(
        String((c.input as { RoleArn?: unknown }).RoleArn ?? ''),
      );
    const vaultDrillRole = (c: RecordedCall) =>
      /:role\/steward-[^/]+-vault-drill-/.test(String((c.input as { RoleArn?: unknown }).RoleArn ?? ''));
    const fleetOnly = (c: RecordedCall) =>
      (c.command === 'AssumeRole' && !vaultRole(c)) ||
      c.client === 'OrganizationsClient' ||
      (c.client === 'S3Client' && String((c.input as { Key?: unknown }).Key ?? '').startsWith('fleet/'));
    const unbound = calls
      .filter((c) => adapterOf(c))
      .flatMap((c) =>
        rolesFor(c, adapters)
          // A vault role is assumed by the hub roles that have one (backup, retention), not by scaling,
          // which shares the session cache (shared/aws/fleet-sessions.ts) only for its spoke roles.
          .filter((role) => !(vaultRole(c) && role === 'scaling'))
          // The drill function shares that session cache only to assume the vault drill role (drills from the
          // vault); the spoke and vault copy/retention roles it never assumes.
          .filter((role) => !(role === 'drill' && c.command === 'AssumeRole' && !vaultDrillRole(c)))
          // ...and the vault drill role is assumed by the drill function alone (its trust names only the hub's
          // drill role: test/iam/vault-drill.test.ts), whichever function's modules share the session cache.
          .filter((role) => !(vaultDrillRole(c) && role !== 'drill'))
          .filter((role) => {
            const d = fleetOnly(c) ? fleet : full;
            return requestsFor(c, d, role, drKeyPolicyFor(d)).length === 0;
          })
          .map((role) => `${role}: ${c.command} (${c.test})`),
      );
    expect([...new Set(unbound)]).toEqual([]);
  });
});

/** The statement the stack prints for the DR key's policy, as the key's resource policy in the simulation. */
const drKeyPolicyFor = (d: Deployment) => {
  const backup = d.roles.get('backup');
  const key = drKey(d);
  if (!backup || !key) return undefined;
  return {
    Version: '2012-10-17',
    Statement: drKeyPolicyStatement(backup.arn, d.config.dr.region, drKeyServices(d.config)),
  };
};

const everyDeployment = () => [...exampleStages, 'full', 'fleet'];

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
/** A call that went through code above the adapters (a service, a handler): its values are the code's. */
const throughService = (c: RecordedCall) => c.frames.some((f) => !/^shared\/(aws|notify)\//.test(f));

describe.each(everyDeployment())('Steward-%s', (name) => {
  const deployment = () => deployments.find((d) => d.name === name)!;

  it('allows every request the code makes (zero needed calls denied)', async () => {
    const d = deployment();
    const denied: string[] = [];
    for (const [role, r] of d.roles) {
      const f = figuresOf(d, role);
      const requests = new Map<string, IamRequest>();
      const add = (x: IamRequest) => requests.set(JSON.stringify([x.action, x.resource, x.context]), x);
      const mine = calls.filter((c) => adapterOf(c) && rolesFor(c, adapters).includes(role));
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
        const bound = requestsFor(c, d, role, drKeyPolicyFor(d));
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
  });

  it('denies every case of the negative matrix', async () => {
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
  });

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
  if (!figures.size) return;
  const rows = [
    ['stage', 'role', 'calls', 'requests', 'allowed', 'denied', 'expected denials', 'denied as expected'],
  ];
  for (const [stage, byRole] of figures) {
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
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows
    .map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
  const details = [...figures].flatMap(([stage, byRole]) =>
    [...byRole].flatMap(([role, f]) => [
      ...f.denied.map((x) => `DENIED (needed) ${stage} ${role}: ${x}`),
      ...f.wronglyAllowed.map((x) => `ALLOWED (must be denied) ${stage} ${role}: ${x}`),
    ]),
  );
  const dir = join(ROOT, '.steward', 'iam');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.txt'), `${table}\n${details.length ? `\n${details.join('\n')}\n` : ''}`);
  console.log(`IAM simulation (details: .steward/iam/report.txt)\n${table}`);
});
