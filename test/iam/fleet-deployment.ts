import { App } from 'aws-cdk-lib';
import { beforeAll, expect } from 'vitest';
import { SpokeStack, spokeStackId } from '../../infra/spoke.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { VaultStack } from '../../infra/vault.js';
import { parseConfig } from '../../shared/config/schema.js';
import { vaultStackId } from '../../shared/fleet/vault.js';
import { vaultDrillRoleName } from '../../shared/fleet/vault-drill.js';
import { VAULT_ACCOUNT } from '../support/fleet.js';
import { cdkContext } from '../infra/iam.js';
import { simulate } from './simulate.js';
import { type PolicyDocument, resolver, type RoleUnderTest, rolesOf } from './template.js';

// The accounts the fleet's IAM tests (fleet, vault, vault-drill) deploy a `prod` stage into, and that
// deployment synthesized once per file: the hub in HUB, the spoke in WORKLOAD, the vault in VAULT.
export const HUB = '111111111111';
export const WORKLOAD = '222222222222';
export const VAULT = VAULT_ACCOUNT;
export const ORG = 'o-a1b2c3d4e5';
export const EXTERNAL_ID = 'steward-prod-fleet';
export const REGION = 'eu-west-1';
/** What a call from a principal of the fleet's organization supplies when it assumes a fleet role. */
export const fromOrg = { 'aws:PrincipalOrgID': ORG, 'sts:ExternalId': EXTERNAL_ID };

/** An administrator's policy: what only a trust or key policy can still refuse. */
export const EVERYTHING: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
};

export type Template = Parameters<typeof rolesOf>[0];

export interface FleetDeployment {
  /** The hub's roles, in HUB. */
  hubRoles: Map<string, RoleUnderTest>;
  hubTemplate: Template;
  spokeTemplate: Template;
  /** The spoke's roles as deployed in WORKLOAD (its pseudo parameters resolve there). */
  spokeRoles: Map<string, RoleUnderTest>;
  /** With `vault: true`: the vault stack's roles in VAULT and its key's policy and ARN. */
  vault?: { roles: Map<string, RoleUnderTest>; keyPolicy: PolicyDocument; keyArn: string };
}

/** The hub, spoke (and vault) stacks of `config`'s `prod` stage, synthesized unbundled, with their roles. */
export const deployFleet = (
  config: unknown,
  name: string,
  opts: { vault?: boolean } = {},
): FleetDeployment => {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] },
  });
  const parsed = parseConfig(config, name);
  const hub = new StewardStack(app, stackId('prod'), { config: parsed });
  const spoke = new SpokeStack(app, spokeStackId('prod'), { config: parsed });
  const vault = opts.vault ? new VaultStack(app, vaultStackId('prod'), { config: parsed }) : undefined;
  const assembly = app.synth();
  const spokeTemplate = assembly.getStackByName(spoke.stackName).template as Template;
  const hubTemplate = assembly.getStackByName(hub.stackName).template as Template;
  const deployment: FleetDeployment = {
    hubRoles: rolesOf(hubTemplate, 'prod', HUB, REGION),
    hubTemplate,
    spokeTemplate,
    spokeRoles: rolesOf(spokeTemplate, 'prod', WORKLOAD, REGION),
  };
  if (vault) {
    const vaultTemplate = assembly.getStackByName(vault.stackName).template as Template;
    const { resolve, getAtt } = resolver(vaultTemplate, VAULT, REGION);
    const [keyId, key] = Object.entries(vaultTemplate.Resources).find(([, r]) => r.Type === 'AWS::KMS::Key')!;
    deployment.vault = {
      roles: rolesOf(vaultTemplate, 'prod', VAULT, REGION),
      keyPolicy: resolve(key.Properties!.KeyPolicy) as PolicyDocument,
      keyArn: getAtt(keyId, 'Arn'),
    };
  }
  return deployment;
};

/** The role of `roles` with this name. */
export const roleNamed = (roles: Map<string, RoleUnderTest>, name: string): RoleUnderTest =>
  [...roles.values()].find((r) => r.arn.endsWith(`/${name}`))!;

/**
 * What the vault drill IAM tests (vault-drill, vault-ebs-drill) simulate in `config`'s fleet with its vault: the
 * hub's roles, the vault drill role, the workload account's spoke backup role, and the vault key's policy and ARN.
 */
export const deployVaultDrill = (config: unknown, name: string) => {
  const d = deployFleet(config, name, { vault: true });
  return {
    hubRoles: d.hubRoles,
    drillRole: roleNamed(d.vault!.roles, vaultDrillRoleName('prod', REGION)),
    workloadBackup: roleNamed(d.spokeRoles, `steward-prod-spoke-backup-${REGION}`),
    keyPolicy: d.vault!.keyPolicy,
    keyArn: d.vault!.keyArn,
  };
};

/** `deployVaultDrill(config, name)`, synthesized once before the file's tests: read its fields inside a test. */
export const useVaultDrill = (config: unknown, name: string): ReturnType<typeof deployVaultDrill> => {
  const d = {} as ReturnType<typeof deployVaultDrill>;
  beforeAll(() => void Object.assign(d, deployVaultDrill(config, name)));
  return d;
};

/** The tags that mark steward's copies in the vault (what the vault drill role may share, and nothing may delete). */
export const VAULT_COPY_TAGS = {
  'steward:managed': 'true',
  'steward:vault': 'true',
  'steward:created-by': 'vault',
};

/** The vault's share of `resource` with the hub account, as the service evaluates it: a resource policy allowing `action`. */
export const sharedWithHub = (action: string, resource: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${HUB}:root` },
      Action: action,
      Resource: resource,
    } as PolicyDocument['Statement'][number],
  ],
});

/** `role` (in the hub) calling `action` on the vault key of a `deployVaultDrill` deployment, with `context`. */
export const onVaultKey = (
  d: Pick<ReturnType<typeof deployVaultDrill>, 'keyArn' | 'keyPolicy'>,
  role: RoleUnderTest,
  action: string,
  context: Record<string, string>,
) =>
  simulate(
    role.arn,
    role.policy,
    { action, resource: d.keyArn, context, resourcePolicy: d.keyPolicy, label: action },
    HUB,
    REGION,
  );

/**
 * Expects that neither principal of a compromised workload account, its spoke backup role nor an administrator
 * allowed everything, is allowed what `asWorkload(principal)` simulates.
 */
export const expectWorkloadRefused = async (
  workloadBackup: RoleUnderTest,
  asWorkload: (principal: Pick<RoleUnderTest, 'arn' | 'policy'>) => Promise<{ decision: string }>,
): Promise<void> => {
  const spoke = await asWorkload(workloadBackup);
  const admin = await asWorkload({ arn: `arn:aws:iam::${WORKLOAD}:role/admin`, policy: EVERYTHING });
  expect(spoke.decision).not.toBe('Allowed');
  expect(admin.decision).not.toBe('Allowed');
};
