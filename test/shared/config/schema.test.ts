import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BaseEnv, loadEnv } from '../../../shared/config/env.js';
import { renderPath } from '../../../shared/config/issues.js';
import {
  configWarnings,
  parseConfig,
  StageName,
  type StewardConfigInput,
  validateConfig,
} from '../../../shared/config/schema.js';
import { ConfigError } from '../../../shared/errors.js';
import { retentionPolicyResolver } from '../../../shared/retention/policy.js';
import { exampleInput, exampleStages, loadExample } from '../../support/examples.js';

const minimal = (): StewardConfigInput => ({ stage: 'acme', region: 'eu-west-1' });

/**
 * A hub in 111122223333 whose organization's fleet keeps a vault in 999988887777 (`standard` retention; `vault`
 * adds to it), with a target account 222233334444.
 */
const vaultFleet = (vault: Record<string, unknown> = {}) => ({
  account: '111122223333',
  fleet: {
    organizationId: 'o-a1b2c3d4e5',
    vault: { account: '999988887777', retention: 'standard', ...vault },
  },
  targets: [{}, { account: '222233334444' }],
});

const errorOf = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

/** Every problem as `path: message`. */
const problems = (input: unknown): string[] => {
  const r = validateConfig(input);
  return r.ok ? [] : r.problems.map((p) => `${renderPath(p.path)}: ${p.message}`);
};

describe('stage config', () => {
  it.each(exampleStages)('the shipped %s example is valid', (stage) => {
    // Act
    const c = loadExample(stage);
    // Assert
    expect(c.stage).toBe(stage);
  });

  it.each(exampleStages)(
    'the resolved %s config parses to itself (what the Lambdas validate again)',
    (stage) => {
      // Prepare
      const resolved = loadExample(stage);
      // Act
      const again = parseConfig(JSON.parse(JSON.stringify(resolved)), 'embedded');
      // Assert
      expect(again).toEqual(resolved);
    },
  );

  it('fills the runbook defaults: daily 03:00 UTC backups kept 30 days, DR in us-west-2, 20 copies in flight', () => {
    // Act
    const c = parseConfig(minimal(), 'test');
    // Assert
    expect(c.backup.policies.daily).toMatchObject({
      schedule: 'cron(0 3 * * ? *)',
      retention: 'standard',
      copyToDr: false,
    });
    expect(c.retention.policies.standard!.daily).toBe(30);
    expect(c.backup.preChangeRetainDays).toBe(90);
    expect(c.dr.region).toBe('us-west-2');
    // AWS documents 20 DB snapshot copies in flight per destination region (cluster copies stay under 5).
    expect(c.backup.maxCopiesInFlight).toBe(20);
    expect(c.backup.drLag).toEqual({ metricPerDatabase: false });
    expect(c.drill).toMatchObject({ rtoSeconds: 3600, rpoSeconds: 300 });
    expect(c.cost.thresholds.map((t) => t.amountUsd)).toEqual([2000, 2500, 3000]);
    expect(c.deletionProtection).toBe(true);
  });

  it('resolves targets to "this account, this region" by default', () => {
    // Act
    const c = parseConfig(minimal(), 'test');
    // Assert
    expect(c.targets).toEqual([{ regions: ['eu-west-1'] }]);
    expect(configWarnings(c)).toEqual([]);
  });

  it('resolves the vault: its regions default to every target region', () => {
    // Prepare
    const input = {
      ...minimal(),
      ...vaultFleet(),
      targets: [{}, { account: '222233334444', regions: ['eu-central-1', 'eu-west-1'] }],
    };
    // Act
    const c = parseConfig(input, 'test');
    // Assert
    expect(c.fleet?.vault).toEqual({
      account: '999988887777',
      retention: 'standard',
      regions: ['eu-west-1', 'eu-central-1'],
    });
    expect(parseConfig(c, 'again')).toEqual(c);
    expect(configWarnings(c).filter((w) => w.path[0] === 'fleet')).toEqual([]);
  });

  it("accepts an RDS or Aurora drill from the vault of a target account's database", () => {
    // Prepare
    const input = {
      ...minimal(),
      ...vaultFleet(),
      drill: {
        enabled: true,
        targets: {
          'orders-db': { from: 'vault' as const, account: '222233334444', profile: { database: 'app' } },
          ledger: {
            kind: 'aurora-cluster' as const,
            from: 'vault' as const,
            account: '222233334444',
            auth: 'secret' as const,
            secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:ledger-login-AbCdEf',
            profile: { database: 'app' },
          },
        },
      },
    };
    // Act
    const c = parseConfig(input, 'test');
    // Assert
    expect(c.drill.targets['orders-db']).toMatchObject({ from: 'vault', account: '222233334444' });
    expect(c.drill.targets.ledger).toMatchObject({ account: '222233334444', auth: 'secret' });
    expect(parseConfig(c, 'again')).toEqual(c);
  });

  it('validates targets in other accounts and regions; with a fleet, only an OU target is warned about', () => {
    // Prepare
    const input = {
      ...minimal(),
      account: '111122223333',
      fleet: { organizationId: 'o-a1b2c3d4e5' },
      targets: [
        {},
        {
          account: '222233334444',
          regions: ['eu-central-1'],
          role: 'arn:aws:iam::222233334444:role/steward',
        },
        { organizationalUnit: 'ou-ab12-cd34ef56' },
      ],
    };
    // Act
    const c = parseConfig(input, 'test');
    // Assert
    expect(c.targets[1]).toEqual({
      account: '222233334444',
      regions: ['eu-central-1'],
      role: 'arn:aws:iam::222233334444:role/steward',
    });
    expect(c.fleet).toMatchObject({ maxConcurrency: 10, toleratedFailurePercentage: 50 });
    expect(configWarnings(c)).toEqual([
      {
        path: ['targets', 2],
        message:
          'ou-ab12-cd34ef56 eu-west-1: each cycle lists its accounts through AWS Organizations, which answers only the management account or a delegated administrator: deploy the hub (111122223333) in one of them, or list the accounts as account targets',
      },
    ]);
  });

  it('warns that Cost Anomaly Detection events cannot reach a stage outside us-east-1 without a route', () => {
    // Prepare: the events are emitted in us-east-1 only; the stage's rule in eu-west-1 never sees one
    const cost = (over: Record<string, unknown> = {}, anomalies: Record<string, unknown> = {}) =>
      parseConfig({ ...minimal(), cost: { enabled: true, ...over, anomalies } }, 'test');
    // Act
    const budgets = configWarnings(cost());
    const poll = configWarnings(cost({ alertsBy: 'cost-explorer' }));
    // Assert: with budgets nothing else looks for anomalies; the Cost Explorer check polls them
    expect(budgets).toEqual([
      {
        path: ['cost', 'anomalies'],
        message:
          "Cost Anomaly Detection emits its events in us-east-1 only: the rule in eu-west-1 sees none, and with alertsBy: budgets no anomaly is ever alerted. Set anomalies.snsTopicArn (an IMMEDIATE anomaly subscription's topic), forward aws.ce events from us-east-1 to this region's default bus, or set anomalies.enabled: false (README: Cost alerts)",
      },
    ]);
    expect(poll).toEqual([
      {
        path: ['cost', 'anomalies'],
        message:
          "Cost Anomaly Detection emits its events in us-east-1 only: the rule in eu-west-1 sees none, and anomalies arrive only by the Cost Explorer poll, every lookbackDays (3). Set anomalies.snsTopicArn (an IMMEDIATE anomaly subscription's topic), forward aws.ce events from us-east-1 to this region's default bus, or set anomalies.enabled: false (README: Cost alerts)",
      },
    ]);
    // No warning with a route, in us-east-1, or with anomalies off.
    const topic = 'arn:aws:sns:eu-west-1:111122223333:cost-anomalies';
    expect(configWarnings(cost({}, { snsTopicArn: topic }))).toEqual([]);
    expect(
      configWarnings(parseConfig({ ...minimal(), region: 'us-east-1', cost: { enabled: true } }, 't')),
    ).toEqual([]);
    expect(configWarnings(cost({}, { enabled: false }))).toEqual([]);
    expect(configWarnings(parseConfig(minimal(), 'test'))).toEqual([]);
  });

  it('warns that AWS Budgets never reach the PagerDuty route: a critical threshold would not page', () => {
    // Prepare: budgets publish to the SNS topics as AWS; the pager route carries steward's own signals only
    const stage = (cost: Record<string, unknown>, pagerDuty: Record<string, unknown> | undefined) =>
      parseConfig(
        {
          ...minimal(),
          region: 'us-east-1',
          ...(pagerDuty && {
            notifications: { pagerDuty: { routingKeySecret: 'steward/pd', ...pagerDuty } },
          }),
          cost: { enabled: true, ...cost },
        },
        'test',
      );
    // Act: the defaults have one critical threshold (usd-3000) and one critical per-hour limit (llm-api)
    const paged = configWarnings(stage({}, {}));
    // Assert
    expect(paged).toEqual([
      {
        path: ['cost', 'alertsBy'],
        message:
          "AWS Budgets publish to the SNS topics only, never to the PagerDuty route (notifications.pagerDuty carries steward's own signals): the budgets usd-3000, llm-api (critical) will not page. Subscribe PagerDuty's Amazon SNS integration to the steward-acme-critical topic, or set cost.alertsBy: cost-explorer, whose check pages them (README: Cost alerts)",
      },
    ]);
    // No warning without the route, with the Cost Explorer check, or with no budget at a paged severity.
    expect(configWarnings(stage({}, undefined))).toEqual([]);
    expect(configWarnings(stage({ alertsBy: 'cost-explorer' }, {}))).toEqual([]);
    expect(
      configWarnings(stage({ thresholds: [{ amountUsd: 100, severity: 'warning' }], hourlyLimits: [] }, {})),
    ).toEqual([]);
  });

  it('warns that targets outside the stage are not managed without a fleet', () => {
    // Prepare
    const input = { ...minimal(), targets: [{}, { regions: ['eu-central-1'] }] };
    // Act
    const c = parseConfig(input, 'test');
    // Assert
    expect(configWarnings(c)).toEqual([
      {
        path: ['targets', 1],
        message:
          'this account eu-central-1: validated, but not managed: without a fleet key steward acts only on its own account and region, eu-west-1 (README: Fleet)',
      },
    ]);
  });

  it.each<[string, (c: StewardConfigInput & Record<string, unknown>) => void, string[]]>([
    [
      'an unknown top-level key',
      (c) => (c.costs = { enabled: true }),
      ['costs: unknown key, did you mean "cost"?'],
    ],
    [
      'a misspelt key in a named policy',
      (c) => (c.retention = { policies: { standard: { keepAtleast: 5 } as never } }),
      ['retention.policies.standard.keepAtleast: unknown key, did you mean "keepAtLeast"?'],
    ],
    [
      'an unknown key with nothing close',
      (c) => (c.dr = { zone: 'a' } as never),
      ['dr.zone: unknown key, known: region, kmsKeyArn'],
    ],
    [
      'a misspelt key deep in a drill profile',
      (c) =>
        (c.drill = {
          targets: { 'orders-db': { profile: { database: 'orders', tables: [{ name: 't', minRow: 1 }] } } },
        } as never),
      ['drill.targets.orders-db.profile.tables[0].minRow: unknown key, did you mean "minRows"?'],
    ],
    [
      'a restore shape that does not fit the kind, and a warm-up that would overflow an execution history',
      (c) =>
        (c.drill = {
          targets: {
            'orders-db': {
              profile: { database: 'orders' },
              restore: { storageType: 'aurora-iopt1', instances: 2, storageThroughputMiBps: 500 },
              warmup: { chunkSeconds: 1, maxSeconds: 7200 },
            },
            ledger: {
              kind: 'aurora-cluster',
              profile: { database: 'ledger' },
              restore: { storageType: 'gp3', iops: 12000 },
            },
          },
        } as never),
      [
        'drill.targets.orders-db.warmup.chunkSeconds: maxSeconds 7200 / chunkSeconds 1 is more than 3000 chunks, which would overflow the 25 000 events of a Step Functions execution: raise chunkSeconds to at least 3',
        'drill.targets.orders-db.restore.storageType: an RDS instance takes gp2, gp3, io1 or io2',
        'drill.targets.orders-db.restore.instances: only an Aurora cluster has several instances',
        'drill.targets.orders-db.restore.storageThroughputMiBps: throughput is set on gp3 storage only',
        'drill.targets.ledger.restore.storageType: an Aurora cluster takes aurora or aurora-iopt1',
        'drill.targets.ledger.restore.iops: provisioned IOPS need storageType gp3, io1 or io2',
      ],
    ],
    [
      'a misspelt key in one branch of a union',
      (c) =>
        (c.drill = {
          targets: { 'orders-db': { snapshot: { randomWithinDay: 3 }, profile: { database: 'orders' } } },
        } as never),
      [
        'drill.targets.orders-db.snapshot.randomWithinDays: is required (a number)',
        'drill.targets.orders-db.snapshot.randomWithinDay: unknown key, did you mean "randomWithinDays"?',
      ],
    ],
    [
      'a misspelt key in a scaling action',
      (c) =>
        (c.scaling = {
          rules: {
            cpu: { alarm: { name: 'cpu' }, resource: 'db', action: { type: 'rds.failover', mod: 1 } },
          },
        } as never),
      ['scaling.rules.cpu.action.mod: unknown key, known: type'],
    ],
    [
      'a misspelt action type',
      (c) =>
        (c.scaling = {
          rules: { cpu: { alarm: { name: 'cpu' }, resource: 'db', action: { type: 'rds.scaleup' } } },
        } as never),
      [
        'scaling.rules.cpu.action.type: must be one of "rds.scaleUp", "rds.addReadReplica", "elasticache.addShard", "elasticache.addReplica", "rds.failover", "elasticache.failover", "notify", got "rds.scaleup": did you mean "rds.scaleUp"?',
      ],
    ],
    [
      'a wrong type',
      (c) => (c.retention = { deletions: { floor: 'fifty' as never } }),
      ['retention.deletions.floor: must be a number, got "fifty"'],
    ],
    [
      'the removed fixed cap, with what replaced it',
      (c) => (c.retention = { maxDeletionsPerRun: 50 } as never),
      [
        'retention.maxDeletionsPerRun: no longer a key: a fixed cap made retention fall behind on large estates; it is replaced by retention.deletions (floor, dueMultiple, safetyCap): move the value to retention.deletions.floor',
      ],
    ],
    [
      'a deletion floor above the safety cap',
      (c) => (c.retention = { deletions: { floor: 500, safetyCap: 100 } }),
      [
        'retention.deletions.floor: must not exceed safetyCap (100): the floor is always allowed, the safety cap never exceeded',
      ],
    ],
    [
      'a due multiple below one',
      (c) => (c.retention = { deletions: { dueMultiple: 0.5 } }),
      ['retention.deletions.dueMultiple: must be at least 1 (got 0.5)'],
    ],
    [
      'an unquoted account id',
      (c) => (c.account = 111122223333 as never),
      [
        'account: must be a string: quote the account id ("123456789012"); YAML reads bare digits as a number',
      ],
    ],
    [
      'a 5-field cron',
      (c) => (c.backup = { policies: { daily: { schedule: 'cron(0 4 * * *)' } } }),
      [
        'backup.policies.daily.schedule: cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 5: EventBridge adds a year field and needs ? in one day field, did you mean cron(0 4 * * ? *)?',
      ],
    ],
    [
      'a cron value out of range',
      (c) => (c.retention = { schedule: 'cron(99 4 * * ? *)' }),
      ['retention.schedule: minutes field: 99 is outside 0-59'],
    ],
    [
      'a rate with the wrong plural',
      (c) => (c.backup = { copySchedule: 'rate(1 hours)' }),
      ['backup.copySchedule: rate(1 hours): the unit is singular for 1, rate(1 hour)'],
    ],
    [
      'a retention policy named "constructor" that does not exist (an `in` check would see Object.prototype)',
      (c) => (c.backup = { policies: { daily: { retention: 'constructor' } } }),
      [
        'backup.policies.daily.retention: names retention policy "constructor", which is not in retention.policies (standard): use one of those, or add "constructor" under retention.policies',
      ],
    ],
    [
      'a misspelt retention policy reference',
      (c) => {
        c.backup = { policies: { daily: { retention: 'standrad' } } };
      },
      [
        'backup.policies.daily.retention: names retention policy "standrad", which is not in retention.policies (standard): did you mean "standard"? Otherwise add "standrad" under retention.policies',
      ],
    ],
    [
      'a bad policy name',
      (c) => (c.backup = { policies: { Daily: {} } }),
      [
        'backup.policies.Daily: key "Daily": must be lowercase letters, digits and hyphens, starting with a letter',
      ],
    ],
    ['a bad region', (c) => (c.region = 'eu-wset-1'), ['region: must be an AWS region such as eu-west-1']],
    [
      'a bad stage name',
      (c) => (c.stage = 'Prod_1'),
      [
        'stage: must be 1-16 lowercase letters, digits and single hyphens, starting with a letter (it goes into resource names)',
      ],
    ],
    [
      'more than the documented 20 copies in flight',
      (c) => (c.backup = { maxCopiesInFlight: 21 }),
      ['backup.maxCopiesInFlight: must be at most 20 (got 21)'],
    ],
    [
      'DR copies without a KMS key',
      (c) => (c.backup = { policies: { daily: { copyToDr: true } } }),
      [
        'dr.kmsKeyArn: is required because policy "daily" copies to us-west-2: encrypted snapshots need a key in the destination region',
      ],
    ],
    [
      'DR copies into the primary region',
      (c) => {
        c.backup = { policies: { daily: { copyToDr: true } } };
        c.dr = { region: 'eu-west-1', kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc' };
      },
      [
        'dr.region: is eu-west-1, a region steward backs up (policy "daily" copies to it): pick another region for the DR copies',
      ],
    ],
    [
      'a KMS key outside the DR region',
      (c) => {
        c.backup = { policies: { daily: { copyToDr: true } } };
        c.dr = { region: 'us-west-2', kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc' };
      },
      [
        'dr.kmsKeyArn: is in eu-west-1 but the DR region is us-west-2: KMS keys are regional, use a key in us-west-2',
      ],
    ],
    [
      'a target in another account without fleet and hub account',
      (c) => (c.targets = [{ account: '222233334444' }]),
      [
        'fleet: is required for targets[0] (222233334444): steward reaches another account through its spoke roles, which trust the hub with fleet.organizationId or fleet.externalId (if 222233334444 is where the stage deploys, set account: "222233334444" at the top)',
        "account: is required with targets in other accounts (targets[0]): spoke roles trust the hub's roles by their ARNs, which name this account",
      ],
    ],
    [
      'a fleet that names neither an organization nor an external id',
      (c) => {
        c.account = '111122223333';
        c.fleet = {};
        c.targets = [{ account: '222233334444' }];
      },
      [
        'fleet.organizationId: or externalId is required: a spoke role trusts the hub only with the organization id or an external id',
      ],
    ],
    [
      'an OU target with an account, a role ARN, and no organization id',
      (c) => {
        c.account = '111122223333';
        c.fleet = { externalId: 'steward-fleet' };
        c.targets = [
          {
            organizationalUnit: 'ou-ab12-cd34ef56',
            account: '222233334444',
            role: 'arn:aws:iam::222233334444:role/steward',
          },
        ];
      },
      [
        'targets[0].organizationalUnit: names every account of ou-ab12-cd34ef56, and account names one: give one of them (a target per OU or account)',
        'fleet.organizationId: is required for targets[0] (ou-ab12-cd34ef56): the spokes of an organizational unit deploy as a StackSet of the organization',
        'targets[0].role: is a role ARN of account 222233334444, but ou-ab12-cd34ef56 has many accounts: give the role name, the same in each account',
      ],
    ],
    [
      'a malformed OU id',
      (c) => (c.targets = [{ organizationalUnit: 'ou-1' }]),
      [
        'targets[0].organizationalUnit: must be an organizational unit id such as ou-ab12-cd34ef56, or the root (r-ab12)',
        'fleet: is required for targets[0] (ou-1): steward reaches another account through its spoke roles, which trust the hub with fleet.organizationId or fleet.externalId',
        "account: is required with targets in other accounts (targets[0]): spoke roles trust the hub's roles by their ARNs, which name this account",
      ],
    ],
    [
      'a vault in the hub account, with an unknown retention policy and a region short',
      (c) => {
        c.account = '111122223333';
        c.fleet = {
          organizationId: 'o-a1b2c3d4e5',
          vault: { account: '111122223333', retention: 'vualt', regions: ['eu-central-1'] },
        };
        c.retention = { policies: { standard: {}, vault: { daily: 35 } } };
      },
      [
        "fleet.vault.account: is 111122223333, the hub's own account: the vault must be an account no workload or hub role can write to or delete from",
        'fleet.vault.retention: names retention policy "vualt", which is not in retention.policies (standard, vault): did you mean "vault"?',
        'fleet.vault.regions: lacks eu-west-1, where targets are: a shared snapshot can only be copied within its own region, so each target region needs a vault region (add eu-west-1, or leave regions out for every target region)',
      ],
    ],
    [
      'a vault in a workload account, without the hub account, and a bad key alias',
      (c) => {
        c.fleet = {
          externalId: 'steward-fleet',
          vault: { account: '222233334444', retention: 'standard', keyAlias: 'alias/aws/rds' },
        };
        c.targets = [{}, { account: '222233334444' }];
      },
      [
        'fleet.vault.keyAlias: must be a KMS alias such as alias/steward-vault (not alias/aws/...)',
        "account: is required with targets in other accounts (targets[1]): spoke roles trust the hub's roles by their ARNs, which name this account",
        'account: is required with fleet.vault: the vault roles trust the hub roles by their ARNs, which name this account',
        "fleet.vault.account: is 222233334444, also targets[1]: a vault inside a workload account does not survive that account's compromise; use a dedicated account",
      ],
    ],
    [
      'a drill from the vault without a vault, and another at a point in time',
      (c) => {
        c.drill = {
          enabled: true,
          targets: {
            'orders-db': { from: 'vault', profile: { database: 'app' } },
            ledger: {
              from: 'vault',
              profile: { database: 'app' },
              snapshot: { pointInTime: '2026-01-15T10:00:00Z' },
            },
          },
        };
      },
      [
        'drill.targets.ledger.snapshot.pointInTime: the vault holds snapshot copies, not a point-in-time window: with from: vault use latest, { randomWithinDays: N } or { id: <vault copy id> }',
        "drill.targets.orders-db.from: is vault, but fleet.vault is not set: a drill from the vault restores the vault account's copy of the database; configure fleet.vault or use from: source",
        "drill.targets.ledger.from: is vault, but fleet.vault is not set: a drill from the vault restores the vault account's copy of the database; configure fleet.vault or use from: source",
      ],
    ],
    [
      'a drill from the vault where the vault has no region',
      (c) => {
        Object.assign(c, vaultFleet({ regions: ['eu-west-1', 'eu-central-1'] }), {
          targets: [{ regions: ['eu-west-1', 'eu-central-1'] }],
        });
        c.region = 'us-east-1';
        c.drill = {
          enabled: true,
          targets: { 'orders-db': { from: 'vault', profile: { database: 'app' } } },
        };
      },
      [
        'drill.targets.orders-db.from: is vault, but us-east-1 (where drills restore) is not a vault region (eu-west-1, eu-central-1): a shared snapshot is restored within its own region; add us-east-1 to fleet.vault.regions',
      ],
    ],
    [
      'EBS drills from the vault: without a vault, an account without from: vault, and the vault account named',
      (c) => {
        c.drill = {
          enabled: true,
          volumes: {
            'i-0abc1234def567890': { from: 'vault' },
            'vol-0fedcba9876543210': { account: '222233334444' },
          },
        };
      },
      [
        "drill.volumes.vol-0fedcba9876543210.account: is read only with from: vault (the vault holds every account's sets); with from: source the drill restores the stage account's own sets: set from: vault, or remove account",
        "drill.volumes.i-0abc1234def567890.from: is vault, but fleet.vault is not set: a drill from the vault restores the vault account's copy of the database; configure fleet.vault or use from: source",
      ],
    ],
    [
      'EBS drills from the vault that name the vault account, and an account that is no target',
      (c) => {
        Object.assign(c, vaultFleet());
        c.drill = {
          enabled: true,
          volumes: {
            'i-0abc1234def567890': { from: 'vault', account: '999988887777' },
            'i-0abc1234def567891': { from: 'vault', account: '555566667777' },
            'i-0abc1234def567892': { from: 'vault', account: '222233334444' },
          },
        };
      },
      [
        "drill.volumes.i-0abc1234def567890.account: is 999988887777, the vault account: name the account the instance or volume lives in (the hub's 111122223333 or a target's); the vault holds its copies",
        "drill.volumes.i-0abc1234def567891.account: is 555566667777, which is neither the hub's account nor a target's: the vault copies the sets of the hub and its targets only; add the account to targets, or name one of them",
      ],
    ],
    [
      "database drills with an account: without from: vault, the vault account named, and another account's database logging in with its own master secret",
      (c) => {
        Object.assign(c, vaultFleet());
        c.drill = {
          enabled: true,
          targets: {
            'orders-db': { account: '222233334444', profile: { database: 'app' } },
            ledger: {
              kind: 'aurora-cluster',
              from: 'vault',
              account: '999988887777',
              profile: { database: 'app' },
            },
            billing: { from: 'vault', account: '222233334444', auth: 'secret', profile: { database: 'app' } },
            // The hub's own database may still read its own master secret.
            users: { from: 'vault', account: '111122223333', auth: 'secret', profile: { database: 'app' } },
          },
        };
      },
      [
        "drill.targets.orders-db.account: is read only with from: vault (the vault holds every account's copies); with from: source the drill restores the stage account's own snapshots: set from: vault, or remove account",
        "drill.targets.ledger.account: is 999988887777, the vault account: name the account the database lives in (the hub's 111122223333 or a target's); the vault holds its copies",
        "drill.targets.billing.secretArn: is required with auth: secret when the database lives in another account (222233334444): its RDS-managed master user secret is that account's, and the drill reads no secret there; name a secret holding its login, or use auth: iam",
      ],
    ],
    [
      'target overrides of policies the stage does not have',
      (c) => {
        c.targets = [
          {
            backup: { policies: { dialy: { copyToDr: false }, daily: { retention: 'short' } } },
            retention: { policies: { standrd: { daily: 7 } }, deletions: { floor: 3000 } },
          },
        ];
      },
      [
        'targets[0].backup.policies.dialy: names backup policy "dialy", which is not in backup.policies (daily): did you mean "daily"? A target overrides policies of the stage, it adds none',
        'targets[0].backup.policies.daily.retention: names retention policy "short", which is not in retention.policies (standard): a target overrides policies of the stage, it adds none',
        'targets[0].retention.policies.standrd: names retention policy "standrd", which is not in retention.policies (standard): did you mean "standard"? A target overrides policies of the stage, it adds none',
        "targets[0].retention.deletions.floor: is 3000, above this target's safetyCap (2000): the floor is always allowed, the safety cap never exceeded",
      ],
    ],
    [
      'a target override out of range, and a key that cannot be overridden',
      (c) =>
        (c.targets = [
          {
            retention: { policies: { standard: { daily: -1 } } },
            backup: { policies: { daily: { schedule: 'rate(1 hour)' } } } as never,
          },
        ]),
      [
        'targets[0].backup.policies.daily.schedule: unknown key, known: kinds, retention, copyToDr, drLagObjectiveHours',
        'targets[0].retention.policies.standard.daily: must be at least 0 (got -1)',
      ],
    ],
    [
      'a target role in another account than the target',
      (c) => {
        c.account = '111122223333';
        c.fleet = { organizationId: 'o-a1b2c3d4e5' };
        c.targets = [{ account: '222233334444', role: 'arn:aws:iam::333344445555:role/steward' }];
      },
      [
        'targets[0].role: is a role in account 333344445555, but the target is account 222233334444: use a role in 222233334444',
      ],
    ],
    [
      'the same region twice',
      (c) => (c.targets = [{}, { regions: ['eu-west-1'] }]),
      [
        'targets[1].regions: eu-west-1 of this account is already in targets[0]: list each account and region once',
      ],
    ],
    [
      'a scale-in floor off the ladder',
      (c) =>
        (c.scaling = {
          rules: {
            cpu: {
              alarm: { name: 'cpu' },
              resource: 'db',
              action: {
                type: 'rds.scaleUp',
                ladder: ['db.r6g.large', 'db.r6g.xlarge'],
                max: 'db.r6g.xlarge',
              },
              scaleIn: { enabled: true, min: 'db.r6g.medium' },
            },
          },
        }),
      [
        'scaling.rules.cpu.scaleIn.min: db.r6g.medium is not on the ladder (db.r6g.large, db.r6g.xlarge): the floor must be one of its classes',
      ],
    ],
    [
      'an unknown time zone',
      (c) => (c.backup = { policies: { daily: { timezone: 'Mars/Olympus_Mons' } } }),
      ['backup.policies.daily.timezone: must be an IANA time zone such as UTC or Europe/Paris'],
    ],
    [
      'a bad email',
      (c) => (c.notifications = { critical: { emails: ['pager'] } }),
      ['notifications.critical.emails[0]: must be a valid email, got "pager"'],
    ],
    [
      'a misspelt enum value',
      (c) => (c.backup = { policies: { daily: { kinds: ['rds'] as never } } }),
      [
        'backup.policies.daily.kinds[0]: must be one of "rds-instance", "aurora-cluster", "elasticache", "ebs": did you mean "rds-instance"?',
      ],
    ],
    [
      'a misspelt snapshot selector',
      (c) =>
        (c.drill = {
          targets: { 'orders-db': { snapshot: 'lastest' as never, profile: { database: 'o' } } },
        }),
      [
        'drill.targets.orders-db.snapshot: must be latest, { randomWithinDays: <1-35> }, { id: <snapshot id> } or { pointInTime: <ISO time> }, got "lastest": did you mean "latest"?',
      ],
    ],
  ])('rejects %s, naming the key path and the fix', (_, mutate, expected) => {
    // Prepare
    const input = minimal() as StewardConfigInput & Record<string, unknown>;
    mutate(input);
    // Act
    const found = problems(input);
    // Assert
    expect(found).toEqual(expected);
  });

  it('reports every problem at once: types, unknown keys, schedules and references together', () => {
    // Prepare
    const input = {
      ...minimal(),
      costs: {},
      retention: { deletions: { floor: 'x' }, policies: { standard: { keepAtleast: 3 } } },
      backup: { policies: { daily: { schedule: 'cron(0 4 * * *)', retention: 'constructor' } } },
    };
    // Act
    const found = problems(input).map((p) => p.split(':')[0]);
    // Assert
    expect(found.sort()).toEqual(
      [
        'backup.policies.daily.retention',
        'backup.policies.daily.schedule',
        'costs',
        'retention.deletions.floor',
        'retention.policies.standard.keepAtleast',
      ].sort(),
    );
  });

  it('resolves a retention policy really named "constructor" through own keys only', () => {
    // Prepare
    const c = parseConfig(
      {
        ...minimal(),
        retention: { policies: { constructor: { daily: 3 } } },
        backup: { policies: { daily: { retention: 'constructor' } } },
      },
      'test',
    );
    const resolve = retentionPolicyResolver(c);
    // Act
    const own = resolve({ tags: { 'steward:policy': 'daily' } } as never);
    const inherited = resolve({ tags: { 'steward:policy': 'toString' } } as never);
    // Assert
    expect(own).toEqual({ name: 'constructor', policy: expect.objectContaining({ daily: 3 }) });
    expect(inherited).toBeUndefined();
  });

  it('throws one ConfigError naming the source and every problem', () => {
    // Act
    const e = errorOf(() => parseConfig({ ...minimal(), region: 'x', costs: 1 }, 'steward.acme.yaml'));
    // Assert
    expect(e.summary).toBe('Invalid steward config (steward.acme.yaml)');
    expect(e.issues).toEqual([
      'region: must be an AWS region such as eu-west-1',
      'costs: unknown key, did you mean "cost"?',
    ]);
  });

  it('accepts any stage name of the documented shape, and nothing else', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]([a-z0-9]|-[a-z0-9]){0,7}$/), (name) => {
        expect(StageName.safeParse(name).success).toBe(name.length <= 16);
      }),
    );
    for (const bad of ['', '1prod', 'prod-', 'pr--od', 'Prod', 'prod_1', 'a'.repeat(17)]) {
      expect(StageName.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('keeps the example input objects usable as config input (what tests of StewardStack pass)', () => {
    // Act / Assert
    expect(parseConfig(exampleInput('staging'), 'test').stage).toBe('staging');
  });
});

describe('function environment', () => {
  const good = {
    CRITICAL_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:critical',
    WARNING_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:warning',
    INFO_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:info',
  };

  it('parses DRY_RUN as a boolean defaulting to false', () => {
    // Act / Assert
    expect(loadEnv(BaseEnv, good).DRY_RUN).toBe(false);
    expect(loadEnv(BaseEnv, { ...good, DRY_RUN: 'true' }).DRY_RUN).toBe(true);
  });

  it('names every bad variable in one error', () => {
    // Prepare
    const { WARNING_TOPIC_ARN: _, ...missing } = good;
    // Act
    const e = errorOf(() => loadEnv(BaseEnv, { ...missing, INFO_TOPIC_ARN: 'nope' }));
    // Assert
    expect(e.issues.map((i) => i.split(':')[0])).toEqual(['WARNING_TOPIC_ARN', 'INFO_TOPIC_ARN']);
  });
});
