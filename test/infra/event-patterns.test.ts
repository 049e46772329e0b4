import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DrEventsStack, drEventsStackId } from '../../infra/dr-events.js';
import { SpokeStack, spokeStackId } from '../../infra/spoke.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig } from '../../shared/config/schema.js';
import { matchesPattern } from '../support/event-pattern.js';
import { loadExample } from '../support/examples.js';
import { SCALING_FLEET_CONFIG } from '../support/fleet.js';
import { scalingStage } from '../support/scaling-stage.js';
import { fullConfig, FULL_ACCOUNT } from '../iam/full-config.js';
import { unbundledContext } from './iam.js';

// Every rule's event pattern, as synthesized, against the documented events it must match (events/, each with
// its source in events/README.md), with EventBridge's matching rules (test/support/event-pattern.ts). A pattern
// that never matches deploys cleanly and is a silent outage; a CDK assertion on the pattern's shape cannot see it.

type Event = Record<string, unknown> & { detail: Record<string, unknown> };
type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

const fixture = (path: string): Event =>
  JSON.parse(readFileSync(new URL(`../../events/${path}`, import.meta.url), 'utf8')) as Event;

/** A documented event as it happens in `account` and `region`: its envelope and every ARN in it moved there. */
const placed = (e: Event, account: string, region: string, over: Partial<Event> = {}): Event => {
  const text = JSON.stringify(e)
    .replaceAll(`:${String(e.region)}:${String(e.account)}:`, `:${region}:${account}:`)
    .replaceAll(`"account":"${String(e.account)}"`, `"account":"${account}"`)
    .replaceAll(`"region":"${String(e.region)}"`, `"region":"${region}"`);
  const moved = JSON.parse(text) as Event;
  return { ...moved, ...over, detail: { ...moved.detail, ...over.detail } };
};

interface Env {
  account: string;
  region: string;
}

/** A rule's pattern with its intrinsics resolved as CloudFormation would in `env`. */
const resolve = (resources: Resources, env: Env, node: unknown): unknown => {
  if (Array.isArray(node)) return node.map((n) => resolve(resources, env, n));
  if (typeof node !== 'object' || node === null) return node;
  const o = node as Record<string, unknown>;
  if ('Ref' in o) {
    const ref = o.Ref as string;
    if (ref === 'AWS::AccountId') return env.account;
    if (ref === 'AWS::Region') return env.region;
    if (ref === 'AWS::Partition') return 'aws';
    const r = resources[ref];
    if (r?.Type === 'AWS::StepFunctions::StateMachine')
      return `arn:aws:states:${env.region}:${env.account}:stateMachine:${String(r.Properties!.StateMachineName)}`;
    throw new Error(`cannot resolve Ref ${ref}`);
  }
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolve(resources, env, p)).join(sep);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(resources, env, v)]));
};

interface RuleOf {
  /** The logical id without CDK's hash: `BackupFunctionDatabaseEventRule`. */
  id: string;
  pattern: unknown;
  /** `default`, or the name of the bus the rule is on. */
  bus: string;
  targets: { Arn: unknown }[];
}

/** `default`, or the name of the bus (`steward-<stage>-fleet`). */
const busName = (resources: Resources, bus: unknown): string => {
  const ref = (bus as { Ref?: string } | undefined)?.Ref;
  if (bus === undefined) return 'default';
  if (!ref) throw new Error(`cannot resolve EventBusName ${JSON.stringify(bus)}`);
  return String(resources[ref]!.Properties!.Name);
};

const rulesOf = (t: Template, env: Env): RuleOf[] => {
  const resources = t.toJSON().Resources as Resources;
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties?.EventPattern)
    .map(([id, r]) => ({
      id: id.replace(/[0-9A-F]{8}$/, ''),
      pattern: resolve(resources, env, r.Properties!.EventPattern),
      bus: busName(resources, r.Properties!.EventBusName),
      targets: r.Properties!.Targets as { Arn: unknown }[],
    }));
};

/** The rules of `rules` on `bus` that EventBridge would deliver `event` to. */
const matching = (rules: RuleOf[], event: Event, bus = 'default'): string[] =>
  rules
    .filter((r) => r.bus === bus && matchesPattern(r.pattern, event))
    .map((r) => r.id)
    .sort();

describe('the pattern matcher (EventBridge content filtering, as documented)', () => {
  const e = {
    source: 'aws.rds',
    detail: { EventID: 'RDS-EVENT-0049', SourceIdentifier: 'rds:orders', n: 5, tags: ['a', 'b'] },
    resources: ['arn:aws:rds:eu-west-1:1:db:orders'],
  };

  it('needs every field (AND) and any value of a field (OR), exact and case-sensitive', () => {
    expect(matchesPattern({ source: ['aws.rds'], detail: { EventID: ['RDS-EVENT-0049'] } }, e)).toBe(true);
    expect(matchesPattern({ source: ['AWS.RDS'] }, e)).toBe(false);
    expect(matchesPattern({ source: ['aws.rds'], detail: { EventID: ['RDS-EVENT-0015'] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { missing: ['x'] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { n: ['5'] } }, e)).toBe(false);
  });

  it('matches an event array when any element matches', () => {
    expect(matchesPattern({ detail: { tags: ['b', 'z'] } }, e)).toBe(true);
    expect(matchesPattern({ resources: [{ prefix: 'arn:aws:rds:eu-west-1:1:db:' }] }, e)).toBe(true);
  });

  it('knows prefix, suffix, anything-but, numeric, exists, equals-ignore-case, wildcard and $or', () => {
    expect(matchesPattern({ detail: { SourceIdentifier: [{ prefix: 'orders' }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { SourceIdentifier: [{ suffix: ':orders' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { EventID: [{ 'anything-but': ['RDS-EVENT-0049'] }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { EventID: [{ 'anything-but': { prefix: 'X' } }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { n: [{ numeric: ['>', 4, '<=', 5] }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { gone: [{ exists: false }], n: [{ exists: true }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { gone: [{ 'anything-but': 'x' }] } }, e)).toBe(false);
    expect(matchesPattern({ source: [{ 'equals-ignore-case': 'AWS.RDS' }] }, e)).toBe(true);
    expect(matchesPattern({ resources: [{ wildcard: '*:db:ord*' }] }, e)).toBe(true);
    expect(
      matchesPattern({ $or: [{ source: ['aws.ec2'] }, { detail: { SourceIdentifier: ['rds:orders'] } }] }, e),
    ).toBe(true);
    expect(() => matchesPattern({ source: [{ cidr: '10.0.0.0/8' }] }, e)).toThrow(/unsupported/);
  });
});

const HUB = { account: '111122223333', region: 'eu-west-1' };

describe('the prod example: each documented event reaches the rule that must act on it, and only that one', () => {
  let rules: RuleOf[];
  let dr: RuleOf[];

  beforeAll(() => {
    const app = new App({ context: unbundledContext });
    const config = loadExample('prod');
    const stack = new StewardStack(app, stackId('prod'), { config });
    const drStack = new DrEventsStack(app, drEventsStackId('prod'), { config: stack.config });
    rules = rulesOf(Template.fromStack(stack), HUB);
    dr = rulesOf(Template.fromStack(drStack), { ...HUB, region: config.dr.region });
  });

  it('AWS Health scheduled changes and issues of RDS, ElastiCache and EC2 → backup', () => {
    for (const f of [
      'health/rds-maintenance-scheduled.json',
      'health/elasticache-maintenance-scheduled.json',
      'health/aws-ec2-instance-retirement-scheduled.json',
      'health/aws-ec2-operational-issue.json',
    ])
      expect(matching(rules, placed(fixture(f), HUB.account, HUB.region)), f).toEqual([
        'BackupFunctionMaintenanceRule',
      ]);
  });

  it('an RDS failover → backup (told) and scaling (the cooldown of a rule’s database; the function ignores others)', () => {
    const failover = placed(fixture('rds/aws-instance-failover.json'), HUB.account, HUB.region);
    expect(matching(rules, failover)).toEqual([
      'BackupFunctionDatabaseEventRule',
      'ScalingFunctionFailoverRule',
    ]);
    const storage = { ...failover, detail: { ...failover.detail, EventID: 'RDS-EVENT-0007' } };
    expect(matching(rules, storage)).toEqual(['BackupFunctionDatabaseEventRule']);
  });

  it('an Aurora cluster failover, stop and start (DB cluster events) → backup (told)', () => {
    // The prod example's scaling rules are on instances: a cluster failover is not scaling's business there.
    const cluster = placed(fixture('rds/cluster-failover.json'), HUB.account, HUB.region);
    expect(matching(rules, cluster)).toEqual(['BackupFunctionDatabaseEventRule']);
    for (const id of ['RDS-EVENT-0069', 'RDS-EVENT-0150', 'RDS-EVENT-0151', 'RDS-EVENT-0153'])
      expect(matching(rules, { ...cluster, detail: { ...cluster.detail, EventID: id } }), id).toEqual([
        'BackupFunctionDatabaseEventRule',
      ]);
  });

  it('steward’s snapshot became available → backup (DR copies); its copy finished in the DR region → forwarded, then backup', () => {
    expect(matching(rules, fixture('rds/snapshot-created.json'))).toEqual([
      'BackupFunctionSnapshotCreatedRule',
    ]);
    const copied = fixture('rds/snapshot-copied.json');
    expect(matching(dr, copied)).toEqual(['CopyFinishedForwardRule']);
    expect(matching(rules, copied)).toEqual(['BackupFunctionCopyFinishedRule']);
    // Someone else's manual snapshot is not steward's business.
    const theirs = JSON.parse(
      JSON.stringify(fixture('rds/snapshot-created.json')).replaceAll('steward-orders', 'nightly-orders'),
    ) as Event;
    expect(matching(rules, theirs)).toEqual([]);
  });

  it('an ElastiCache snapshot was created → backup (Redis DR)', () => {
    expect(matching(rules, fixture('elasticache/snapshot-created.json'))).toEqual([
      'BackupFunctionCacheSnapshotCreatedRule',
    ]);
  });

  it('a drill database was restored → drill (resolves its task token)', () => {
    const restored = fixture('drill/rds-restore-complete.json');
    expect(matching(rules, restored)).toEqual(['DrillFunctionRestoreEventRule']);
    // The RDS User Guide's DB instance event example names its instance `rds:<id>`: matched the same.
    const documented = JSON.parse(
      JSON.stringify(restored).replace(
        '"SourceIdentifier":"steward-drill-',
        '"SourceIdentifier":"rds:steward-drill-',
      ),
    ) as Event;
    expect(JSON.stringify(documented)).toContain('rds:steward-drill-');
    expect(matching(rules, documented)).toEqual(['DrillFunctionRestoreEventRule']);
  });

  it('a drill execution ended FAILED, TIMED_OUT or ABORTED → drill; one that SUCCEEDED, or another state machine’s, → nothing', () => {
    const drill = `arn:aws:states:${HUB.region}:${HUB.account}:stateMachine:steward-prod-drill`;
    for (const f of ['aws-execution-failed', 'aws-execution-timed-out', 'aws-execution-aborted']) {
      const ended = placed(fixture(`drill/${f}.json`), HUB.account, HUB.region, {
        detail: { stateMachineArn: drill },
      });
      expect(matching(rules, ended), f).toEqual(['DrillFunctionExecutionEndedRule']);
      const other = placed(fixture(`drill/${f}.json`), HUB.account, HUB.region);
      expect(matching(rules, other), f).toEqual([]);
    }
    const passed = placed(fixture('drill/aws-execution-succeeded.json'), HUB.account, HUB.region, {
      detail: { stateMachineArn: drill },
    });
    expect(matching(rules, passed)).toEqual([]);
  });

  it('a scaling rule’s alarm: ALARM → the rules’ alarm rule; OK → nothing (no scale-in); a configuration change → the warning rule', () => {
    expect(matching(rules, fixture('scaling/alarm-state-change.json'))).toEqual([
      'ScalingFunctionAlarmsRule',
    ]);
    expect(matching(rules, fixture('scaling/alarm-ok.json'))).toEqual([]);
    for (const f of ['create', 'update', 'delete']) {
      const change = placed(fixture(`scaling/aws-alarm-config-${f}.json`), HUB.account, HUB.region, {
        detail: { alarmName: 'orders-db-unhealthy' },
      });
      expect(matching(rules, change), f).toEqual(['ScalingFunctionAlarmConfigurationRule']);
    }
    // The documented examples' own alarms are no rule's.
    expect(matching(rules, fixture('scaling/aws-metric-alarm-muted.json'))).toEqual([]);
  });

  it('a Cost Anomaly Detection event → cost', () => {
    expect(matching(rules, fixture('cost/anomaly-eventbridge.json'))).toEqual(['CostFunctionAnomalyRule']);
  });

  it('a hand-wired classic "Scheduled Event" reaches no rule (steward’s schedules are Scheduler’s)', () => {
    expect(matching(rules, fixture('backup/aws-classic-scheduled-event.json'))).toEqual([]);
  });
});

describe('every branch on (the IAM suite’s full config): EBS, scale-in and Redis drills', () => {
  let rules: RuleOf[];
  let dr: RuleOf[];
  const env = { account: FULL_ACCOUNT, region: 'eu-west-1' };

  beforeAll(() => {
    const app = new App({ context: unbundledContext });
    const stack = new StewardStack(app, 'Steward-full', { config: parseConfig(fullConfig, 'full') });
    const drStack = new DrEventsStack(app, 'Steward-full-dr', { config: stack.config });
    rules = rulesOf(Template.fromStack(stack), env);
    dr = rulesOf(Template.fromStack(drStack), { ...env, region: 'us-west-2' });
  });

  it('an EBS snapshot or set completed → backup; a failed set → nothing; a copy finished in the DR region → forwarded, then backup', () => {
    for (const f of ['aws-create-snapshot', 'aws-create-snapshots'])
      expect(matching(rules, placed(fixture(`ebs/${f}.json`), env.account, env.region)), f).toEqual([
        'BackupFunctionEbsSnapshotCreatedRule',
      ]);
    expect(
      matching(rules, placed(fixture('ebs/aws-create-snapshots-failed.json'), env.account, env.region)),
    ).toEqual([]);
    const copied = placed(fixture('ebs/aws-copy-snapshot.json'), env.account, 'us-west-2');
    expect(matching(dr, copied)).toEqual(['EbsCopyFinishedForwardRule']);
    expect(matching(rules, copied)).toEqual(['BackupFunctionEbsCopyFinishedRule']);
  });

  it('a scale-in rule’s alarm back to OK → the scale-in rules’ alarm rule only', () => {
    expect(matching(rules, fixture('scaling/alarm-ok.json'))).toEqual(['ScalingFunctionScaleInAlarmsRule']);
  });

  it('a prefix rule takes every alarm of its prefix', () => {
    const alarm = { ...fixture('scaling/alarm-state-change.json') };
    alarm.detail = { ...alarm.detail, alarmName: 'reports-db-cpu-p95' };
    expect(matching(rules, alarm)).toEqual(['ScalingFunctionAlarmsRule']);
  });
});

describe('a fleet: what a spoke forwards, the hub acts on', () => {
  let hub: RuleOf[];
  let spoke: RuleOf[];
  const HUB_ACCOUNT = '111111111111';
  const WORKLOAD = { account: '222222222222', region: 'eu-central-1' };

  beforeAll(() => {
    const app = new App({ context: unbundledContext });
    const config = parseConfig(SCALING_FLEET_CONFIG, 'fleet');
    const hubStack = new StewardStack(app, stackId('prod'), { config });
    const spokeStack = new SpokeStack(app, spokeStackId('prod'), { config });
    hub = rulesOf(Template.fromStack(hubStack), { account: HUB_ACCOUNT, region: 'eu-west-1' });
    spoke = rulesOf(Template.fromStack(spokeStack), WORKLOAD);
  });

  // The documented events as they happen in a workload account (the spoke's rules see them on its default bus).
  const inSpoke = (): [string, Event][] => {
    const at = (f: string) => placed(fixture(f), WORKLOAD.account, WORKLOAD.region);
    const alarm = at('scaling/alarm-state-change.json');
    const failover = at('rds/aws-instance-failover.json');
    return [
      ['failover', failover],
      ['storage full', { ...failover, detail: { ...failover.detail, EventID: 'RDS-EVENT-0007' } }],
      ['cluster failover', at('rds/cluster-failover.json')],
      ['snapshot created', at('rds/snapshot-created.json')],
      ['copy finished', at('rds/snapshot-copied.json')],
      ['maintenance', at('health/rds-maintenance-scheduled.json')],
      ['cache snapshot', at('elasticache/snapshot-created.json')],
      ['alarm', { ...alarm, detail: { ...alarm.detail, alarmName: 'orders-cpu-high' } }],
    ];
  };

  it('forwards each of these from the spoke', () => {
    for (const [what, e] of inSpoke()) expect(matching(spoke, e).length, what).toBeGreaterThan(0);
  });

  it('has a hub rule on the fleet bus for every event a spoke forwards (else it is paid for and dropped)', () => {
    // A spoke's failover and storage-full were forwarded to the fleet bus and dropped there: no hub rule took
    // database events from it.
    for (const [what, e] of inSpoke()) {
      if (!matching(spoke, e).length) continue;
      expect(matching(hub, e, 'steward-prod-fleet'), what).not.toEqual([]);
    }
    const failover = inSpoke().find(([w]) => w === 'failover')![1];
    expect(matching(hub, failover, 'steward-prod-fleet')).toEqual([
      'BackupFunctionFleetDatabaseEventRule',
      'ScalingFunctionFleetFailoverRule',
    ]);
  });

  it("hands a spoke's failover to scaling too (its cooldown restarts), and nothing else of its database events", () => {
    // A spoke's failover reached backup only: the spoke database's scaling cooldown never restarted, where the
    // hub's own failover restarts it (ScalingFunctionFailoverRule). The fleet's rules are on instances, so a
    // cluster failover is not scaling's business here.
    const events = new Map(inSpoke());
    expect(matching(hub, events.get('failover')!, 'steward-prod-fleet')).toContain(
      'ScalingFunctionFleetFailoverRule',
    );
    for (const what of ['storage full', 'cluster failover', 'snapshot created', 'maintenance'])
      expect(matching(hub, events.get(what)!, 'steward-prod-fleet'), what).not.toContain(
        'ScalingFunctionFleetFailoverRule',
      );
    // The hub's own failover stays on the default bus's rule, never the fleet bus's.
    const own = placed(fixture('rds/aws-instance-failover.json'), HUB_ACCOUNT, 'eu-west-1');
    expect(matching(hub, own)).toContain('ScalingFunctionFailoverRule');
    expect(matching(hub, own)).not.toContain('ScalingFunctionFleetFailoverRule');
  });

  it('parks a fleet cycle that timed out or was stopped in the stage’s failure queue (a FAILED one told its summary)', () => {
    // A cycle that outran its timeout or was stopped ended with no summary and no alarm: nobody was told.
    for (const capability of ['backup', 'retention', 'scaling']) {
      const machine = `arn:aws:states:eu-west-1:${HUB_ACCOUNT}:stateMachine:steward-prod-${capability}-fleet`;
      const ended = (f: string) =>
        placed(fixture(`drill/${f}.json`), HUB_ACCOUNT, 'eu-west-1', {
          detail: { stateMachineArn: machine },
        });
      for (const f of ['aws-execution-timed-out', 'aws-execution-aborted']) {
        const [rule, ...others] = hub.filter(
          (r) => r.bus === 'default' && matchesPattern(r.pattern, ended(f)),
        );
        expect(others, `${capability} ${f}`).toEqual([]);
        expect(rule?.targets, `${capability} ${f}`).toEqual([
          expect.objectContaining({ Arn: { 'Fn::GetAtt': [expect.stringMatching(/^FailureQueue/), 'Arn'] } }),
        ]);
      }
      expect(matching(hub, ended('aws-execution-failed')), capability).toEqual([]);
      expect(matching(hub, ended('aws-execution-succeeded')), capability).toEqual([]);
    }
  });
});

describe('limits: a stage with 300 scaling rules (one per database) fits the scaling function’s resource policy', () => {
  let template: Template;
  let rules: RuleOf[];
  let names: string[];

  beforeAll(() => {
    ({ template, names } = scalingStage(300));
    rules = rulesOf(template, HUB);
  });

  it('needs a few rules, not one per scaling rule: each adds a Lambda permission to a 20 KB resource policy', () => {
    // One rule per scaling rule filled the policy at about 45 rules (~0.45 KB each): the stack could not deploy.
    const alarmRules = rules.filter((r) =>
      JSON.stringify(r.pattern).includes('CloudWatch Alarm State Change'),
    );
    expect(alarmRules.length).toBeGreaterThan(0);
    expect(alarmRules.length).toBeLessThanOrEqual(12);
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) =>
      JSON.stringify(p).includes('events.amazonaws.com'),
    );
    expect(permissions.length).toBeLessThanOrEqual(20);
    for (const r of rules) expect(JSON.stringify(r.pattern).length, r.id).toBeLessThanOrEqual(2048);
  });

  it('still hands every rule’s alarm to the function: ALARM for all, OK only for those that scale in', () => {
    const alarm = fixture('scaling/alarm-state-change.json');
    const ok = fixture('scaling/alarm-ok.json');
    names.forEach((name, i) => {
      const state = (e: Event) => ({ ...e, detail: { ...(e.detail as object), alarmName: name } }) as Event;
      const onAlarm = matching(rules, state(alarm)).filter(
        (id) => id !== 'ScalingFunctionAlarmConfigurationRule',
      );
      expect(onAlarm.length, name).toBe(1);
      expect(matching(rules, state(ok)).length, name).toBe(i % 2 === 0 ? 1 : 0);
    });
    const other = {
      ...alarm,
      detail: { ...(alarm.detail as object), alarmName: 'orders-db-300-cpu-high' },
    } as Event;
    expect(matching(rules, other)).toEqual([]);
  });
});

describe('limits: a stage with 60 scaling rules (one per database) still deploys its rules', () => {
  let rules: RuleOf[];

  beforeAll(() => {
    rules = rulesOf(scalingStage(60).template, HUB);
  });

  it('keeps every event pattern within EventBridge’s default 2,048 characters', () => {
    // The failover rule listed every rule's database ARN: past ~35 databases CloudFormation could not create it.
    for (const r of rules) expect(JSON.stringify(r.pattern).length, r.id).toBeLessThanOrEqual(2048);
  });

  it('hands a completed Aurora cluster failover (RDS-EVENT-0071) to scaling when a rule is on a cluster, and only then', () => {
    const cluster = placed(fixture('rds/cluster-failover.json'), HUB.account, HUB.region);
    expect(matching(rules, cluster)).not.toContain('ScalingFunctionFailoverRule');
    const config = parseConfig(
      {
        stage: 'production',
        region: 'eu-west-1',
        scaling: {
          enabled: true,
          rules: {
            readers: {
              alarm: { name: 'analytics-cpu-high' },
              resource: 'analytics',
              kind: 'aurora-cluster',
              action: { type: 'rds.addReadReplica', maxReplicas: 3 },
            },
          },
        },
      },
      'aurora',
    );
    const stack = new StewardStack(new App({ context: unbundledContext }), 'Steward-production', { config });
    const aurora = rulesOf(Template.fromStack(stack), HUB);
    expect(matching(aurora, cluster)).toContain('ScalingFunctionFailoverRule');
    // A failover that has only started, and a cluster stop, are not a new primary: no cooldown restarts.
    for (const id of ['RDS-EVENT-0073', 'RDS-EVENT-0150'])
      expect(matching(aurora, { ...cluster, detail: { ...cluster.detail, EventID: id } }), id).not.toContain(
        'ScalingFunctionFailoverRule',
      );
    // No instance rule: an instance failover is not taken.
    const instance = placed(fixture('rds/aws-instance-failover.json'), HUB.account, HUB.region);
    expect(matching(aurora, instance)).not.toContain('ScalingFunctionFailoverRule');
  });

  it('still hands a failover of a rule’s database to scaling (the handler ignores the others)', () => {
    const failover = placed(fixture('rds/aws-instance-failover.json'), HUB.account, HUB.region);
    const ours = JSON.parse(JSON.stringify(failover).replaceAll('my-db-instance', 'orders-db-042')) as Event;
    expect(matching(rules, ours)).toContain('ScalingFunctionFailoverRule');
  });
});
