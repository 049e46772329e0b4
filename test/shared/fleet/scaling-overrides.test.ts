import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
import { targetConfig } from '../../../shared/fleet/fan-out.js';
import { forwardedTargets } from '../../../shared/fleet/forwarded.js';
import { SCALING_FLEET_CONFIG } from '../../support/fleet.js';

const config = parseConfig(SCALING_FLEET_CONFIG, 'fleet');

describe("a target's scaling overrides", () => {
  it("apply to that target's rules only, over the stage's", () => {
    // Prepare
    const [other] = forwardedTargets(config, 'scaling', { account: '222222222222', region: 'eu-west-1' });
    const [own] = forwardedTargets(config, 'scaling', { account: '333333333333', region: 'eu-west-1' });
    // Act
    const a = targetConfig(config, other!).scaling.rules;
    const b = targetConfig(config, own!).scaling.rules;
    // Assert
    expect(a['orders-cpu']).toMatchObject({ mode: 'auto', cooldownMinutes: 30, resource: 'orders' });
    expect(b['orders-cpu']).toMatchObject({ mode: 'dryRun', cooldownMinutes: 120, resource: 'orders' });
    expect(b['billing-cpu']).toEqual(config.scaling.rules['billing-cpu']);
  });

  it('assumes the spoke scaling role of the account and region the alarm came from', () => {
    expect(forwardedTargets(config, 'scaling', { account: '222222222222', region: 'eu-central-1' })).toEqual([
      expect.objectContaining({
        roleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-scaling-eu-central-1',
        externalId: 'steward-prod-fleet',
      }),
    ]);
  });

  it('never acts in other regions for an alarm of the DR region (only a DR copy does)', () => {
    expect(forwardedTargets(config, 'scaling', { account: '222222222222', region: 'us-west-2' })).toEqual([]);
  });

  it('rejects a rule the stage does not have, naming it', () => {
    const bad = structuredClone(SCALING_FLEET_CONFIG);
    bad.targets![1] = { ...bad.targets![1], scaling: { rules: { 'orders-cpuu': { mode: 'dryRun' } } } };
    expect(() => parseConfig(bad, 'fleet')).toThrow(
      /targets\[1\]\.scaling\.rules\.orders-cpuu.*did you mean "orders-cpu"/s,
    );
  });
});
