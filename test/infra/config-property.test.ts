import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { type StewardConfigInput, validateConfig } from '../../shared/config/schema.js';
import { cdkContext } from './iam.js';

// Any config the validator accepts synthesizes: the stack builds, the template has a function per enabled
// capability, and cdk-nag finds nothing unacknowledged. The generator covers every section, valid or not
// (dangling references, DR copies without a key, clashing regions...); only what the validator accepts is
// synthesized. Synth is the slow part (~1 s per stack with bundling skipped), hence the few runs.
const RUNS = 8;

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const region = fc.constantFrom('eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-2', 'eu-central-1');
const severity = fc.constantFrom('critical', 'warning', 'info');
const schedule = fc.oneof(
  fc
    .tuple(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), fc.boolean())
    .map(([m, h, weekly]) => `cron(${m} ${h} ${weekly ? '?' : '*'} * ${weekly ? 'MON-FRI' : '?'} *)`),
  fc
    .tuple(fc.integer({ min: 1, max: 48 }), fc.constantFrom('minute', 'hour', 'day'))
    .map(([n, u]) => `rate(${n} ${n === 1 ? u : `${u}s`})`),
  fc.constant('at(2031-06-01T03:00:00)'),
);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const dict = <T>(value: fc.Arbitrary<T>, max = 3) => fc.dictionary(name, value, { minKeys: 1, maxKeys: max });

const retentionPolicy = fc.record(
  {
    daily: fc.integer({ min: 0, max: 60 }),
    weekly: fc.integer({ min: 0, max: 12 }),
    monthly: fc.integer({ min: 0, max: 24 }),
    yearly: fc.integer({ min: 0, max: 5 }),
    keepAtLeast: fc.integer({ min: 1, max: 10 }),
  },
  { requiredKeys: [] },
);

const profile = fc.record({
  database: name,
  tables: fc.uniqueArray(
    fc.record(
      { name: fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/), minRows: fc.integer({ min: 0, max: 10 }) },
      { requiredKeys: ['name'] },
    ),
    { maxLength: 3, selector: (t) => t.name },
  ),
});

const drillTarget = fc.record(
  {
    kind: fc.constantFrom('rds-instance', 'aurora-cluster'),
    schedule,
    snapshot: fc.oneof(
      fc.constant('latest'),
      fc.record({ randomWithinDays: fc.integer({ min: 1, max: 35 }) }),
      fc.record({ id: name }),
    ),
    profile,
  },
  { requiredKeys: ['profile'] },
);

const scalingRule = fc.oneof(
  fc.record({
    alarm: fc.record({ name }),
    resource: name,
    action: fc.constantFrom(
      { type: 'rds.scaleUp', ladder: ['db.r6g.large', 'db.r6g.xlarge'], max: 'db.r6g.xlarge' },
      { type: 'rds.addReadReplica', maxReplicas: 2 },
      { type: 'rds.failover' },
      { type: 'notify' },
    ),
    mode: fc.constantFrom('auto', 'approve', 'dryRun'),
    severity,
  }),
  fc.record({
    alarm: fc.record({ prefix: name }),
    resource: name,
    kind: fc.constant('elasticache'),
    action: fc.constantFrom({ type: 'elasticache.addReplica', max: 2 }, { type: 'elasticache.failover' }),
  }),
  fc.record({
    alarm: fc.record({
      name,
      create: fc.record({
        metric: fc.constant('CPUUtilization'),
        threshold: fc.integer({ min: 1, max: 100 }),
        periodSeconds: fc.constantFrom(60, 300),
      }),
    }),
    resource: name,
    action: fc.constant({ type: 'rds.addReadReplica', maxReplicas: 3 }),
  }),
);

/** A stage config input: every section, sometimes invalid across sections. */
const configInput = fc
  .record({
    stage: fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/),
    region,
    dryRun: fc.boolean(),
    deletionProtection: fc.boolean(),
    retention: fc.record({ schedule, policies: dict(retentionPolicy) }, { requiredKeys: ['policies'] }),
    drRegion: region,
    keyInDrRegion: fc.boolean(),
    backupPolicies: dict(
      fc.record(
        {
          schedule,
          timezone: fc.constantFrom('UTC', 'Europe/Paris', 'America/New_York'),
          kinds: fc.subarray(['rds-instance', 'aurora-cluster', 'elasticache'] as const, { minLength: 1 }),
          copyToDr: fc.boolean(),
          pick: fc.nat(),
        },
        { requiredKeys: ['pick'] },
      ),
    ),
    drill: opt(fc.record({ enabled: fc.boolean(), targets: dict(drillTarget, 2) }, { requiredKeys: [] })),
    cost: opt(
      fc.record(
        {
          enabled: fc.boolean(),
          schedule,
          thresholds: fc.uniqueArray(
            fc.record({ amountUsd: fc.integer({ min: 1, max: 10_000 }), severity }),
            {
              maxLength: 3,
              selector: (t) => t.amountUsd,
            },
          ),
          hourly: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
    ),
    scaling: opt(fc.record({ enabled: fc.boolean(), rules: dict(scalingRule, 3) }, { requiredKeys: [] })),
    report: opt(
      fc.record(
        {
          enabled: fc.boolean(),
          schedule,
          statusSchedule: schedule,
          trendMonths: fc.integer({ min: 1, max: 13 }),
        },
        { requiredKeys: [] },
      ),
    ),
    extraTarget: opt(region),
  })
  .map(({ backupPolicies, drRegion, keyInDrRegion, extraTarget, ...c }) => {
    const retentionNames = Object.keys(c.retention.policies);
    return {
      ...c,
      backup: {
        policies: Object.fromEntries(
          Object.entries(backupPolicies).map(([n, { pick, ...p }]) => [
            n,
            // Mostly a defined retention policy; now and then a dangling one, which must be rejected.
            { ...p, retention: pick % 10 === 0 ? 'missing' : retentionNames[pick % retentionNames.length] },
          ]),
        ),
      },
      dr: {
        region: drRegion,
        kmsKeyArn: `arn:aws:kms:${keyInDrRegion ? drRegion : 'sa-east-1'}:111122223333:alias/steward-dr`,
      },
      ...(extraTarget ? { targets: [{}, { regions: [extraTarget] }] } : {}),
    };
  });

describe('any config the validator accepts', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'config-property-synth-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  let accepted = 0;

  it('synthesizes a stack with one function per enabled capability, clean under cdk-nag', () => {
    fc.assert(
      fc.property(configInput, (input) => {
        const r = validateConfig(input);
        fc.pre(r.ok);
        if (!r.ok) return;
        accepted++;
        const config = r.config;
        // Bundling is skipped: it is the same for every config and proven in stack.test.ts.
        const app = new App({ outdir, context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
        // The raw input, as a test of the stack's own validation would pass it (the generator's types are loose).
        const stack = new StewardStack(app, stackId(config.stage), { config: input as StewardConfigInput });
        const t = Template.fromStack(stack);
        const expected =
          2 +
          (config.drill.enabled ? 2 : 0) +
          (config.scaling.enabled ? 1 : 0) +
          (config.cost.enabled ? 1 : 0) +
          (config.report.enabled ? 1 : 0);
        expect(Object.keys(t.findResources('AWS::Lambda::Function'))).toHaveLength(expected);
        expect(stack.config).toEqual(config);
        const report = new AwsSolutionsChecks(app).validateScope(app);
        expect(report.violations.map((v) => v.ruleName)).toEqual([]);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
    // The generator must reach synth for most runs, or the property proves little.
    expect(accepted).toBeGreaterThanOrEqual(RUNS / 2);
  });
});
