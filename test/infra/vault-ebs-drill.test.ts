import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AslDefinition, definitionFromTemplate } from '../../infra/local-drill.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { VaultStack } from '../../infra/vault.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { DrillState } from '../../shared/drill/state.js';
import { vaultStackId } from '../../shared/fleet/vault.js';
import {
  type FakeEbsOptions,
  type FakeEbsVaultOptions,
  fakeEbs,
  fakeEbsVault,
  vaultEbsSet,
} from '../fakes/ebs-drill-ports.js';
import { SPOKE_INSTANCE, VAULT_ACCOUNT, VAULT_EBS_DRILL_CONFIG } from '../support/fleet.js';
import {
  EBS_PASSED_AT_SECOND_POLL,
  FAILED_AT_RESTORE,
  localDrillDeps,
  runLocalEbsDrill,
  runnerClock,
} from '../support/local-drill.js';
import { statements, unbundledContext } from './iam.js';

// EBS drills from the vault (`drill.volumes.<id>.from: vault`): the vault stack's drill role and key statements,
// the hub drill function's grants, and the hub's synthesized drill definition run locally with the real drill
// tasks over in-memory EC2 and an in-memory vault: every path shares the vault's parts before restoring and
// takes every share back after the volumes are deleted.
const HUB = '111111111111';
const SPOKE = '222222222222';
const REGION = 'eu-west-1';
const config = parseConfig(VAULT_EBS_DRILL_CONFIG, 'vault-ebs-drill');

let hub: Template;
let vault: Template;
let vaultStack: VaultStack;
let definition: AslDefinition;
beforeAll(() => {
  const app = new App({ context: unbundledContext });
  const hubStack = new StewardStack(app, stackId('prod'), { config });
  vaultStack = new VaultStack(app, vaultStackId('prod'), { config });
  hub = Template.fromStack(hubStack);
  vault = Template.fromStack(vaultStack);
  definition = definitionFromTemplate(
    hub.toJSON() as Parameters<typeof definitionFromTemplate>[0],
    'steward-prod-drill',
  );
});

const sid = (tpl: Template, id: string) => statements(tpl).find((s) => s.Sid === id);

describe('EBS drills from the vault: the vault stack', () => {
  it('lets the vault drill role add and remove the hub account (only) on steward’s tagged vault copies, never a group', () => {
    // Act
    const share = sid(vault, 'ShareVaultEbsCopiesWithHubForDrills')!;
    const unshare = sid(vault, 'UnshareVaultEbsCopiesFromHub')!;

    // Assert
    expect(share.Action).toBe('ec2:ModifySnapshotAttribute');
    expect(share.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/steward:managed': 'true',
        'aws:ResourceTag/steward:vault': 'true',
        'ec2:Add/userId': HUB,
      },
      Null: { 'ec2:Add/group': 'true' },
    });
    expect(unshare.Condition).toMatchObject({ StringEquals: { 'ec2:Remove/userId': HUB } });
  });

  it('denies it copying, deleting or re-tagging any EBS snapshot, and grants no RDS share without an RDS target', () => {
    // Act
    const deny = sid(vault, 'NeverCopyDeleteOrRetagVaultEbsSnapshots')!;

    // Assert
    expect(deny.Effect).toBe('Deny');
    expect(deny.Action).toEqual(
      expect.arrayContaining(['ec2:CopySnapshot', 'ec2:DeleteSnapshot', 'ec2:CreateTags', 'ec2:DeleteTags']),
    );
    expect(sid(vault, 'ShareVaultDbCopiesForDrills')).toBeUndefined();
  });

  it('lets the hub drill role use the vault key through EC2 only (and not through RDS without an RDS target)', () => {
    // Act
    const [key] = Object.values(vault.findResources('AWS::KMS::Key'));
    const policy = key!.Properties.KeyPolicy.Statement as {
      Sid: string;
      Condition?: unknown;
      Action: string[];
    }[];
    const st = policy.find((s) => s.Sid === 'HubDrillRoleUsesKeyThroughEc2')!;

    // Assert
    expect([...st.Action].sort()).toEqual([
      'kms:CreateGrant',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:ReEncryptFrom',
    ]);
    expect(JSON.stringify(st.Condition)).toContain('ec2.');
    expect(policy.find((s) => s.Sid === 'HubDrillRoleUsesKeyThroughRds')).toBeUndefined();
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks(vaultStack).validateScope(vaultStack);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });
});

describe('EBS drills from the vault: the hub drill function', () => {
  it('assumes the vault drill role, creates volumes only from tagged vault copies, and uses the vault key through EC2', () => {
    // Act
    const assume = sid(hub, 'AssumeVaultDrillRole')!;
    const create = sid(hub, 'DrillVolumesFromVaultEbsCopies')!;
    const key = sid(hub, 'UseVaultKeysThroughEc2')!;

    // Assert
    expect(JSON.stringify(assume.Resource)).toContain(
      `:iam::${VAULT_ACCOUNT}:role/steward-prod-vault-drill-eu-west-1`,
    );
    expect(create.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/steward:managed': 'true', 'aws:ResourceTag/steward:vault': 'true' },
    });
    expect(JSON.stringify(key.Resource)).toContain(`:kms:eu-west-1:${VAULT_ACCOUNT}:key/*`);
    expect(key.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com' } });
    // The share records (the janitor's list); no RDS copy grant without an RDS target.
    expect(sid(hub, 'DrillVaultShares')).toBeDefined();
    expect(sid(hub, 'CopyVaultCopiesForDrills')).toBeUndefined();
  });
});

const EXECUTION = 'drill-vault-ebs-local';
// The vault's copy of the spoke's set taken an hour before the run (the local execution runs on the real clock).
const LATEST = vaultEbsSet(
  SPOKE_INSTANCE,
  new Date(Date.now() - 3_600_000).toISOString(),
  ['vol-0root', 'vol-0data'],
  {
    sourceAccount: SPOKE,
    vaultAccount: VAULT_ACCOUNT,
  },
);
const parts = LATEST.parts!.map((p) => p.id);

const scenario = (o: FakeEbsOptions & FakeEbsVaultOptions = {}) => {
  const vaultSide = fakeEbsVault([LATEST], { ...o, hub: HUB, vaultAccount: VAULT_ACCOUNT });
  const ebs = fakeEbs([], { ...o, readable: vaultSide.readable }, REGION);
  const deps = localDrillDeps(config, runnerClock(), { ebs, vault: vaultSide });
  return { ebs, vault: vaultSide, deps, notifier: deps.notifier };
};

const run = (f: ReturnType<typeof scenario>) =>
  runLocalEbsDrill(definition, EXECUTION, SPOKE_INSTANCE, f.deps);

/** Nothing left: no volume, no share, no share record. */
const nothingLeft = (f: ReturnType<typeof scenario>) => {
  expect(f.ebs.live.size).toBe(0);
  expect(parts.map((p) => f.vault.permitted.get(p)?.has(HUB) ?? false)).toEqual([false, false]);
  expect(f.vault.shares.shares.size).toBe(0);
};

describe('the synthesized drill definition, run locally for an EBS drill from the vault', () => {
  it('restores the spoke instance’s vault set in the hub through the shared parts, passes, and takes the shares back', async () => {
    // Prepare
    const f = scenario({ readyAfterPolls: { [parts[1]!]: 2 } });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual(EBS_PASSED_AT_SECOND_POLL);
    const out = r.output as DrillState;
    expect(out.result).toMatchObject({ passed: true, outcome: 'passed' });
    expect(out.ebs?.vault).toMatchObject({ account: VAULT_ACCOUNT, sourceAccount: SPOKE });
    expect(f.ebs.log.filter((l) => l.startsWith('create'))).toEqual(parts.map((p) => `create ${p}`));
    expect(f.vault.log.filter((l) => l.startsWith('share'))).toEqual(parts.map((p) => `share ${p} ${HUB}`));
    nothingLeft(f);
  });

  it('a share the vault refuses is caught into Cleanup, which takes back what was shared, and ends DrillFailed', async () => {
    // Prepare
    const f = scenario({ refuseShare: parts[1] });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.error?.Error).toBe('DrillFailed');
    expect(r.path).toEqual(FAILED_AT_RESTORE);
    expect(f.ebs.log.filter((l) => l.startsWith('create'))).toEqual([]);
    nothingLeft(f);
  });

  it('a volume that goes to error is caught into Cleanup, which deletes the volumes and then unshares', async () => {
    // Prepare
    const f = scenario({ errorState: parts[0] });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.path).toContain('CheckVolumes');
    expect(f.ebs.log.filter((l) => l.startsWith('delete'))).toHaveLength(2);
    nothingLeft(f);
  });
});
