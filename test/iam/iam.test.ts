import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type RecordedCall } from '../support/sdk-recorder.js';
import { adapterOf, assumedBy, contradictedExclusions, rolesFor, UNWIRED } from './attribution.js';
import { binderFor, requestsFor } from './requests.js';
import { deploy, drKeyPolicyFor, simulateDeployments } from './suite.js';
import type { Deployment } from './template.js';

/**
 * IAM, proven offline (test/iam/suite.ts): the recorded calls themselves (the other tests ran first, every SDK
 * command of the code is sent by one, each call belongs to a function role and binds to IAM requests), and the
 * simulation of the fleet hub. The example stages and the config with every branch on are simulated in
 * iam-examples.test.ts and iam-full.test.ts, which vitest runs beside this file.
 */

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

// The fleet hub's simulation (test/iam/suite.ts) loads the recorded calls and synthesizes the hub; the checks
// below read them, and bind every call in the deployment with every branch on.
const hub = simulateDeployments(['fleet']);
let full: Deployment;
beforeAll(() => {
  full = deploy('full');
});

describe('the recorded calls', () => {
  let calls: RecordedCall[];
  let adapters: Map<string, Set<string>>;
  beforeAll(() => {
    calls = hub.calls();
    adapters = hub.adapters();
  });

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
    const unmapped = [
      ...new Set(calls.filter((c) => adapterOf(c) && !binderFor(c)).map((c) => `${c.client}:${c.command}`)),
    ];
    expect(unmapped, 'commands without an IAM mapping in test/iam/requests.ts').toEqual([]);
    // The fan-out's calls (AssumeRole, reads of the Map Run export) exist only on a hub with spokes.
    const fleet = hub.deployment('fleet');
    const drKeyPolicies = new Map([full, fleet].map((d) => [d, drKeyPolicyFor(d)]));
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
            return requestsFor(c, d, role, drKeyPolicies.get(d)).length === 0;
          })
          .map((role) => `${role}: ${c.command} (${c.test})`),
      );
    expect([...new Set(unbound)]).toEqual([]);
  });
});
