import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { loadExample } from '../../support/examples.js';

type Rules = NonNullable<NonNullable<StewardConfigInput['scaling']>['rules']>;
const withRules = (rules: Rules): StewardConfigInput => ({
  stage: 'dev',
  region: 'eu-west-1',
  scaling: { enabled: true, rules },
});
const issues = (input: StewardConfigInput): string[] => {
  try {
    parseConfig(input, 'test');
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('scaling config', () => {
  it('is off by default, and a rule gets safe defaults: auto, warning, 30 min cooldown, no scale-in, next window', () => {
    // Act
    const off = parseConfig({ stage: 'dev', region: 'eu-west-1' }, 'test');
    const on = parseConfig(
      withRules({
        cpu: {
          alarm: { name: 'db-cpu' },
          resource: 'db',
          action: { type: 'rds.scaleUp', max: 'db.r6g.xlarge' },
        },
      }),
      'test',
    );

    // Assert
    expect(off.scaling).toMatchObject({
      enabled: false,
      rules: {},
      alarmTopicArns: [],
      approvalTtlHours: 24,
    });
    expect(on.scaling.rules.cpu).toEqual({
      alarm: { name: 'db-cpu' },
      resource: 'db',
      kind: 'rds-instance',
      action: { type: 'rds.scaleUp', max: 'db.r6g.xlarge', applyImmediately: false },
      mode: 'auto',
      severity: 'warning',
      cooldownMinutes: 30,
      scaleIn: { enabled: false, afterOkMinutes: 60 },
    });
  });

  it('ships the seed rules in prod: ladder to 2xlarge, 2 replicas, 4 shards, failover on approval', () => {
    // Act
    const { scaling } = loadExample('prod');

    // Assert
    expect(scaling.enabled).toBe(true);
    expect(
      Object.fromEntries(Object.entries(scaling.rules).map(([n, r]) => [n, [r.kind, r.action.type, r.mode]])),
    ).toEqual({
      'orders-db-cpu': ['rds-instance', 'rds.scaleUp', 'auto'],
      'orders-db-connections': ['rds-instance', 'rds.addReadReplica', 'auto'],
      'sessions-redis-memory': ['elasticache', 'elasticache.addShard', 'auto'],
      'orders-db-failover': ['rds-instance', 'rds.failover', 'approve'],
    });
    expect(scaling.rules['orders-db-cpu']!.action).toMatchObject({
      ladder: ['db.r6g.large', 'db.r6g.xlarge', 'db.r6g.2xlarge'],
      max: 'db.r6g.2xlarge',
    });
  });

  it.each<[string, Rules, string]>([
    [
      'an action on the wrong kind',
      {
        r: {
          alarm: { name: 'a' },
          resource: 'db',
          kind: 'elasticache',
          action: { type: 'rds.scaleUp', max: 'db.r6g.xlarge' },
        },
      },
      'scaling.rules.r.kind: rds.scaleUp acts on rds-instance, not elasticache',
    ],
    [
      'a ladder that leaves its family',
      {
        r: {
          alarm: { name: 'a' },
          resource: 'db',
          action: { type: 'rds.scaleUp', ladder: ['db.r6g.large', 'db.m6g.xlarge'], max: 'db.m6g.xlarge' },
        },
      },
      'scaling.rules.r.action.ladder: must stay in one instance family: db.m6g.xlarge is not db.r6g.*',
    ],
    [
      'a max that is not on the ladder',
      {
        r: {
          alarm: { name: 'a' },
          resource: 'db',
          action: { type: 'rds.scaleUp', ladder: ['db.r6g.large', 'db.r6g.xlarge'], max: 'db.r6g.2xlarge' },
        },
      },
      'scaling.rules.r.action.max: db.r6g.2xlarge is not on the ladder',
    ],
    [
      'scale-in on a failover',
      {
        r: {
          alarm: { name: 'a' },
          resource: 'db',
          action: { type: 'rds.failover' },
          scaleIn: { enabled: true },
        },
      },
      'scaling.rules.r.scaleIn.enabled: rds.failover has no scale-in step',
    ],
    [
      'scale-in on a prefix rule',
      {
        r: {
          alarm: { prefix: 'cache-' },
          resource: 'cache',
          action: { type: 'elasticache.addReplica', max: 3 },
          scaleIn: { enabled: true },
        },
      },
      'scaling.rules.r.scaleIn.enabled: needs alarm.name',
    ],
    [
      'scale-in of a class with no explicit floor',
      {
        r: {
          alarm: { name: 'a' },
          resource: 'db',
          action: { type: 'rds.scaleUp', max: 'db.r6g.xlarge' },
          scaleIn: { enabled: true },
        },
      },
      'scaling.rules.r.scaleIn.min: is required with scale-in when the action has no ladder',
    ],
    [
      'a scale-in floor in another family, without a ladder (every scale-in refused at run time)',
      {
        r: {
          alarm: { name: 'a' },
          resource: 'db',
          action: { type: 'rds.scaleUp', max: 'db.r6g.4xlarge' },
          scaleIn: { enabled: true, min: 'db.r5.2xlarge' },
        },
      },
      "scaling.rules.r.scaleIn.min: db.r5.2xlarge is not on the ladder the action climbs without one (db.r6g.micro, db.r6g.small, db.r6g.medium, db.r6g.large, db.r6g.xlarge, db.r6g.2xlarge, db.r6g.4xlarge: the family's standard sizes up to max): the floor must be one of its classes, or set action.ladder",
    ],
    [
      'a scale-in floor above max, without a ladder',
      {
        r: {
          alarm: { name: 'a' },
          resource: 'db',
          action: { type: 'rds.scaleUp', max: 'db.r6g.4xlarge' },
          scaleIn: { enabled: true, min: 'db.r6g.8xlarge' },
        },
      },
      'scaling.rules.r.scaleIn.min: db.r6g.8xlarge is not on the ladder the action climbs without one',
    ],
    [
      'a scale-in floor above max on a configured ladder (no step back ever)',
      {
        r: {
          alarm: { name: 'a' },
          resource: 'db',
          action: {
            type: 'rds.scaleUp',
            ladder: ['db.r6g.large', 'db.r6g.xlarge', 'db.r6g.2xlarge'],
            max: 'db.r6g.xlarge',
          },
          scaleIn: { enabled: true, min: 'db.r6g.2xlarge' },
        },
      },
      'scaling.rules.r.scaleIn.min: db.r6g.2xlarge is above max (db.r6g.xlarge): no class would ever step back',
    ],
    [
      'a cache alarm without a node dimension',
      {
        r: {
          alarm: { name: 'a', create: { metric: 'EngineCPUUtilization', threshold: 80 } },
          resource: 'cache',
          action: { type: 'elasticache.addShard', max: 4 },
        },
      },
      'scaling.rules.r.alarm.create.dimensions: is required for ElastiCache',
    ],
    [
      'two rules answering one alarm',
      {
        a: { alarm: { name: 'db-cpu' }, resource: 'db', action: { type: 'notify' } },
        b: { alarm: { name: 'db-cpu' }, resource: 'db', action: { type: 'rds.failover' } },
      },
      'scaling.rules.b.alarm: "db-cpu" is already answered by rule "a"',
    ],
    [
      'more than 5 cache replicas',
      { r: { alarm: { name: 'a' }, resource: 'cache', action: { type: 'elasticache.addReplica', max: 6 } } },
      'scaling.rules.r.action.max',
    ],
    [
      'an unknown action',
      { r: { alarm: { name: 'a' }, resource: 'db', action: { type: 'rds.reboot' } as never } },
      'scaling.rules.r.action.type',
    ],
  ])('refuses %s, naming the field', (_what, rules, expected) => {
    expect(issues(withRules(rules)).join('\n')).toContain(expected);
  });

  it('takes a floor on the standard ladder a rule without one climbs', () => {
    // Act
    const parsed = parseConfig(
      withRules({
        r: {
          alarm: { name: 'a' },
          resource: 'db',
          action: { type: 'rds.scaleUp', max: 'db.r6g.4xlarge' },
          scaleIn: { enabled: true, min: 'db.r6g.large' },
        },
      }),
      'test',
    );

    // Assert
    expect(parsed.scaling.rules.r!.scaleIn.min).toBe('db.r6g.large');
  });
});
