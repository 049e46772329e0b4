import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { VaultEnv } from '../../shared/config/env.js';
import type { StewardConfigInput } from '../../shared/config/schema.js';
import { FLEET_CONFIG, VAULT_CONFIG } from '../support/fleet.js';
import { unbundledContext } from './iam.js';

// How the hub runs the vault: the backup function learns the partition of the vault copy role's ARN (the
// name is the vault stack's), and the event-free copy reconcile that follows the vault is scheduled even when
// no policy copies to DR.
const hubOf = (config: StewardConfigInput) =>
  Template.fromStack(new StewardStack(new App({ context: unbundledContext }), stackId('prod'), { config }));
const backupEnv = (t: Template) =>
  Object.values(t.findResources('AWS::Lambda::Function')).find((f) =>
    JSON.stringify(f.Properties.Description ?? '').includes('scheduled and ad-hoc snapshots'),
  )!.Properties.Environment.Variables as Record<string, unknown>;

/** The vault config without DR copies: the daily policy only backs up. */
const NO_DR: StewardConfigInput = {
  ...VAULT_CONFIG,
  backup: { policies: { daily: {} } },
  dr: { region: 'us-west-2' },
};

let vault: Template;
beforeAll(() => {
  vault = hubOf(VAULT_CONFIG);
});

describe('the backup function with a vault', () => {
  it("is told the partition of the vault copy role's ARN", () => {
    const env = backupEnv(vault);
    // The hub stack names its region, so CDK resolves the partition at synth.
    expect(env.VAULT_PARTITION).toBe('aws');
    expect(Object.keys(VaultEnv.shape)).toEqual(['VAULT_PARTITION']);
  });

  it('follows the vault on the copy schedule, with or without DR copies', () => {
    // Act
    const noDr = hubOf(NO_DR);
    // Assert: one fan-out schedule of the copy reconcile in each (a fleet's schedules start the cycle)
    for (const t of [vault, noDr]) {
      t.hasResourceProperties('AWS::Scheduler::Schedule', {
        Name: Match.stringLikeRegexp('backup-copies'),
        Description: Match.stringLikeRegexp('vault'),
        ScheduleExpression: 'rate(1 hour)',
        Target: Match.objectLike({ Input: Match.stringLikeRegexp('reconcile-copies') }),
      });
    }
    expect(JSON.stringify(noDr.toJSON())).not.toContain('CopyFinishedRule');
  });
});

describe('the backup function without a vault', () => {
  it('has no partition variable and no vault in its copy schedule', () => {
    const plain = hubOf(FLEET_CONFIG);
    expect(backupEnv(plain).VAULT_PARTITION).toBeUndefined();
    expect(JSON.stringify(plain.toJSON())).not.toContain('vault');
  });

  it('schedules no copy reconcile when nothing copies to DR', () => {
    const plain = hubOf({
      ...FLEET_CONFIG,
      backup: { policies: { daily: {} } },
      dr: { region: 'us-west-2' },
    });
    expect(
      Object.values(plain.findResources('AWS::Scheduler::Schedule')).filter((s) =>
        JSON.stringify(s).includes('reconcile-copies'),
      ),
    ).toEqual([]);
  });
});

describe('the retention function with a vault', () => {
  const retentionEnv = (t: Template) =>
    Object.values(t.findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f.Properties.Description ?? '').includes('expire steward snapshots'),
    )!.Properties.Environment.Variables as Record<string, unknown>;

  it("runs the vault's retention once a day in each vault region, straight to the function", () => {
    // Assert: VAULT_CONFIG's vault regions are both target regions
    for (const region of ['eu-west-1', 'eu-central-1']) {
      vault.hasResourceProperties('AWS::Scheduler::Schedule', {
        Name: `steward-prod-vault-retention-${region}`,
        ScheduleExpression: 'cron(30 4 * * ? *)',
        Target: Match.objectLike({
          Arn: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^RetentionFunction'), 'Arn'] }),
          Input: Match.serializedJson(
            Match.objectLike({ action: 'vault-retention', region, scheduledTime: Match.anyValue() }),
          ),
        }),
      });
    }
    expect(retentionEnv(vault).VAULT_PARTITION).toBe('aws');
  });

  it('has no vault schedule and no partition variable without a vault', () => {
    const plain = hubOf(FLEET_CONFIG);
    expect(retentionEnv(plain).VAULT_PARTITION).toBeUndefined();
    expect(JSON.stringify(plain.findResources('AWS::Scheduler::Schedule'))).not.toContain('vault-retention');
  });
});
