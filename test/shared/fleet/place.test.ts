import { Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { planBackups, planSnapshot } from '../../../shared/backup/plan.js';
import { parseConfig } from '../../../shared/config/schema.js';
import {
  accountOfArn,
  dumpPolicies,
  isFleet,
  longestOf,
  placed,
  placeOf,
  placeTags,
} from '../../../shared/fleet/place.js';
import type { Database } from '../../../shared/model.js';
import { chatNotification } from '../../../shared/notify/formats.js';
import { alertSignals, pagerDutyEvents } from '../../../shared/notify/pager.js';
import {
  memoryNotifier,
  type Notification,
  notifierAt,
  renderNotification,
} from '../../../shared/notify/notifier.js';
import { memoryRunReports, reportRun, runReportLines } from '../../../shared/notify/run-report.js';
import { metrics, Metrics, MetricUnit } from '../../../shared/observability.js';
import { retentionRecord, retentionRecordKey } from '../../../shared/retention/record.js';
import { planRetention } from '../../../shared/retention/gfs.js';
import { type PolicySet, retentionPolicyResolver } from '../../../shared/retention/policy.js';
import type { RetentionPolicy } from '../../../shared/config/schema.js';
import { atPlace } from '../../../shared/runtime.js';
import { Tag } from '../../../shared/tags.js';
import { FLEET_CONFIG } from '../../support/fleet.js';

const ARN = 'arn:aws:lambda:eu-west-1:111122223333:function:steward-prod-backup';
const single = parseConfig({ stage: 'prod', region: 'eu-west-1' }, 'prod');
const fleet = parseConfig(FLEET_CONFIG, 'prod');
const HERE = { account: '111122223333', region: 'eu-west-1', fleet: false };
const THERE = { account: '222222222222', region: 'eu-central-1', fleet: true };

describe('placeOf', () => {
  it.each([
    [
      'a fan-out child: its target',
      { target: { index: 1, account: '222222222222', region: 'eu-central-1' } },
      fleet,
      THERE,
    ],
    ['a single-account run: the account in the function ARN', { action: 'x' }, single, HERE],
    [
      'a fleet run without target: the config account',
      {},
      fleet,
      { account: '111111111111', region: 'eu-west-1', fleet: true },
    ],
    [
      'a target without a valid account: its region alone',
      { target: { region: 'eu-central-1', account: 'x' } },
      single,
      { region: 'eu-central-1', fleet: false },
    ],
  ])('%s', (_, event, config, want) => {
    // Act / Assert
    expect(placeOf(event, { invokedFunctionArn: ARN }, config)).toEqual(want);
  });

  it('reads no account from a malformed ARN, nor a missing context', () => {
    expect(accountOfArn('arn:aws:lambda:eu-west-1:acct:function:f')).toBeUndefined();
    expect(placeOf(null, undefined, single)).toEqual({ region: 'eu-west-1', fleet: false });
  });

  it('calls a stage a fleet only when it manages more than its own account-region', () => {
    expect(isFleet(single)).toBe(false);
    expect(isFleet(fleet)).toBe(true);
    expect(
      isFleet(
        parseConfig(
          { stage: 'p', region: 'eu-west-1', targets: [{ regions: ['eu-west-1', 'us-east-1'] }] },
          'p',
        ),
      ),
    ).toBe(true);
  });

  it('names a database with its place', () => {
    expect(placed('orders', THERE)).toBe('orders (222222222222/eu-central-1)');
    expect(placed('orders', { region: 'eu-west-1' })).toBe('orders (eu-west-1)');
  });
});

const note = (over: Partial<Notification> = {}): Notification => ({
  severity: 'critical',
  capability: 'backup',
  subject: 'daily backup: 0 created, 0 skipped, 1 failed',
  lines: ['FAILED orders-db: boom'],
  alerts: [
    {
      key: 'orders-db:backup',
      action: 'trigger',
      severity: 'critical',
      summary: 'orders-db',
      resource: 'orders-db',
    },
  ],
  ...over,
});

describe('notifications say where', () => {
  it('puts the account and region in the subject before the summary, and a line in the body', async () => {
    // Prepare
    const inner = memoryNotifier();
    // Act
    await notifierAt(inner, THERE).send(note({ subject: 'x'.repeat(200) }));
    const { subject, message } = renderNotification(inner.sent[0]!, 'prod');
    // Assert: the cut at SNS's 100 characters takes the summary's end, never the place
    expect(subject).toMatch(/^\[steward prod\] CRITICAL backup 222222222222\/eu-central-1: x+\.\.\.$/);
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(message.split('\n')[1]).toBe(
      'Account 222222222222, region eu-central-1: every database named here is there.',
    );
    const chat = chatNotification(inner.sent[0]!, 'prod');
    expect(chat.content.title).toContain('222222222222/eu-central-1');
    expect(chat.content.description).toContain('Account 222222222222, region eu-central-1');
    expect(chat.metadata?.additionalContext).toMatchObject({
      account: '222222222222',
      region: 'eu-central-1',
    });
  });

  it('in a fleet, keys pager incidents by place: the same database name in two accounts is two incidents', async () => {
    // Prepare
    const inner = memoryNotifier();
    // Act
    await notifierAt(inner, THERE).send(note());
    await notifierAt(inner, { ...THERE, account: '333333333333' }).send(note());
    await notifierAt(inner, THERE).send(note({ alerts: undefined }));
    // Assert
    const [a, b, c] = inner.sent.map((n) => pagerDutyEvents(n, 'prod')[0]!);
    expect(a!.dedup_key).toBe('steward/prod/orders-db:backup@222222222222/eu-central-1');
    expect(b!.dedup_key).toBe('steward/prod/orders-db:backup@333333333333/eu-central-1');
    expect(a!.event_action === 'trigger' && a!.payload.component).toBe(
      'orders-db (222222222222/eu-central-1)',
    );
    expect(a!.event_action === 'trigger' && a!.payload.summary).toBe(
      '[steward prod] 222222222222/eu-central-1 orders-db',
    );
    expect(c!.dedup_key).toMatch(/^steward\/prod\/backup:[0-9a-f]{8}@222222222222\/eu-central-1$/);
  });

  it('a single-account stage keeps its pager keys (an incident opened before the upgrade still resolves)', async () => {
    // Prepare
    const inner = memoryNotifier();
    // Act
    await notifierAt(inner, HERE).send(note());
    await notifierAt(inner, HERE).send(note({ alerts: undefined }));
    // Assert
    expect(alertSignals(inner.sent[0]!)[0]!.key).toBe('orders-db:backup');
    expect(alertSignals(inner.sent[1]!)[0]!.key).toBe(alertSignals(note({ alerts: undefined }))[0]!.key);
    expect(renderNotification(inner.sent[0]!, 'prod').subject).toContain('backup 111122223333/eu-west-1:');
  });
});

describe('reports say where', () => {
  const AT = new Date('2026-03-01T06:00:00Z');
  const run = (place?: typeof HERE) => {
    const reports = memoryRunReports('bucket-1', 'eu-west-1');
    return reportRun(
      { reports, notifier: memoryNotifier(), ...(place ? { place } : {}) },
      { capability: 'backup', at: AT, name: 'scheduled-backup-daily', report: { n: 1 } },
      (r) => ({ ...note(), lines: runReportLines(r) }),
    ).then(() => reports.objects);
  };

  it('in a fleet, keys each target its own report and names account and region in it', async () => {
    const objects = await run(THERE);
    const key =
      'runs/backup/2026-03-01/20260301T060000Z-222222222222-eu-central-1-scheduled-backup-daily.json';
    expect([...objects.keys()]).toEqual([key]);
    expect(JSON.parse(objects.get(key)!)).toMatchObject({
      account: '222222222222',
      region: 'eu-central-1',
      n: 1,
    });
  });

  it('a single-account stage keeps its keys, and names its account and region in the report', async () => {
    const objects = await run(HERE);
    const key = 'runs/backup/2026-03-01/20260301T060000Z-scheduled-backup-daily.json';
    expect(JSON.parse(objects.get(key)!)).toMatchObject({ account: '111122223333', region: 'eu-west-1' });
  });

  it('retention records: a fleet key per target, the place in the record', () => {
    const at = '2026-03-01T04:30:00.000Z';
    expect(retentionRecordKey(at)).toBe('runs/retention/2026/03/01/20260301T043000000Z.json');
    const r = retentionRecord({
      at,
      place: THERE,
      deleted: [
        {
          snapshot: {
            kind: 'rds-instance',
            id: 's',
            arn: 'a',
            region: 'eu-central-1',
            sourceId: 'db',
            status: 'available',
            type: 'manual',
            tags: {},
          },
          status: 'deleted',
        },
      ],
      verdicts: [],
      deferred: 0,
    })!;
    expect(r).toMatchObject({ account: '222222222222', region: 'eu-central-1', fleet: true });
    expect(retentionRecordKey(at, r)).toBe(
      'runs/retention/2026/03/01/20260301T043000000Z-222222222222-eu-central-1.json',
    );
  });
});

const db = (over: Partial<Database> = {}): Database => ({
  kind: 'rds-instance',
  id: 'orders-db',
  arn: 'arn:aws:rds:eu-central-1:222222222222:db:orders-db',
  region: 'eu-central-1',
  engine: 'postgres',
  status: 'available',
  tags: { [Tag.backup]: 'daily' },
  ...over,
});
const WHEN = new Date('2026-01-15T03:00:00Z');

describe('snapshot tags say where the database lives', () => {
  it('a placed run tags steward:account and steward:region; steward:source stays the database', () => {
    // Act
    const plan = planBackups([db()], 'daily', { kinds: ['rds-instance'] }, [], WHEN, {
      quotaWarnPercent: 80,
      place: { account: '222222222222' },
    });
    // Assert
    const a = plan.actions[0]!;
    expect(a.action === 'create' && a.tags).toMatchObject({
      [Tag.source]: 'orders-db',
      [Tag.account]: '222222222222',
      [Tag.region]: 'eu-central-1',
    });
  });

  it('an ad-hoc snapshot stays far under the 50 tags RDS and ElastiCache allow, with room for a DR copy', () => {
    const plan = planSnapshot(db(), [db()], { reason: 'pre-change', retainDays: 90 }, [], WHEN, {
      quotaWarnPercent: 80,
      place: { account: '222222222222' },
    });
    const a = plan.actions[0]!;
    // Steward's own, plus steward:copied-from on the DR copy.
    expect(a.action === 'create' && Object.keys(a.tags).length + 1).toBeLessThanOrEqual(10);
  });

  it("retention judges a snapshot with or without the new tags alike (old snapshots stay steward's)", () => {
    // Prepare
    const base = {
      kind: 'rds-instance' as const,
      region: 'eu-central-1',
      sourceId: 'orders-db',
      status: 'available',
      type: 'manual' as const,
    };
    const tags = { [Tag.managed]: 'true', [Tag.policy]: 'daily', [Tag.source]: 'orders-db' };
    const days = Array.from({ length: 10 }, (_, i) => `2026-01-${String(i + 1).padStart(2, '0')}T03:00:00Z`);
    const snaps = (extra: Record<string, string>) =>
      days.map((createdAt, i) => ({
        ...base,
        id: `steward-orders-db-${i}`,
        arn: `a${i}`,
        createdAt,
        tags: { ...tags, ...extra },
      }));
    const resolver = (s: { tags: Record<string, string> }) =>
      s.tags[Tag.policy] === 'daily'
        ? { name: 'standard', policy: { daily: 3, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } }
        : undefined;
    const now = new Date('2026-01-12T04:30:00Z');
    // Act
    const old = planRetention(snaps({}), resolver, now, { maxDeletionsPerRun: 100 });
    const tagged = planRetention(snaps(placeTags(THERE)), resolver, now, { maxDeletionsPerRun: 100 });
    // Assert
    expect(old.delete.length).toBeGreaterThan(0);
    expect(tagged.verdicts).toEqual(old.verdicts);
  });
});

describe('metrics in a fleet', () => {
  let out: string[];
  let write: typeof process.stdout.write;
  beforeEach(() => {
    out = [];
    write = process.stdout.write;
    process.stdout.write = ((c: string) => (out.push(...String(c).trim().split('\n')), true)) as never;
    vi.useFakeTimers({ now: new Date('2026-02-01T05:00:00Z'), toFake: ['Date'] });
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'false');
  });
  afterEach(() => {
    process.stdout.write = write;
    vi.useRealTimers();
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
  const docs = () =>
    out.map(
      (l) =>
        JSON.parse(l) as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } } & Record<
          string,
          unknown
        >,
    );
  const SCOPE = { Account: '222222222222', Region: 'eu-central-1' };

  it('publishes each metric under its usual dimensions and under them plus Account and Region', () => {
    // Prepare
    const m = new Metrics({ namespace: 'Steward', serviceName: 'backup' }).setScope(SCOPE);
    // Act
    m.addMetric('SnapshotsCreated', MetricUnit.Count, 3);
    m.publishStoredMetrics();
    const s = m.singleMetric();
    s.addDimension('policy', 'daily');
    s.addMetric('DrLagMaxSeconds', MetricUnit.Seconds, 7200);
    // Assert
    const [a, b] = docs();
    expect(a!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service'], ['service', 'Account', 'Region']]);
    expect(a).toMatchObject({ service: 'backup', ...SCOPE, SnapshotsCreated: 3 });
    expect(b!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([
      ['service', 'policy'],
      ['service', 'policy', 'Account', 'Region'],
    ]);
  });

  it('writes what Powertools writes for the same dimension set (addDimensions)', () => {
    // Prepare
    const ours = new Metrics({ namespace: 'Steward', serviceName: 'backup' }).setScope(SCOPE);
    const theirs = new PowertoolsMetrics({ namespace: 'Steward', serviceName: 'backup' });
    // Act
    for (const m of [ours, theirs]) {
      m.addDimension('policy', 'daily');
      if (m === theirs) theirs.addDimensions({ policy: 'daily', ...SCOPE });
      m.addMetric('SnapshotsCreated', MetricUnit.Count, 3);
      m.publishStoredMetrics();
    }
    // Assert
    const [a, b] = out;
    expect(a).toBe(b);
  });

  it('atPlace scopes the shared writer per invocation: a fleet child by its target, then a single-account run not at all', () => {
    // Prepare
    const scope = vi.spyOn(metrics, 'setScope');
    const fleetDeps = { config: fleet, dryRun: false, notifier: memoryNotifier(), now: () => WHEN };
    // Act
    const child = atPlace(
      fleetDeps,
      { target: { account: '222222222222', region: 'eu-central-1' } },
      { invokedFunctionArn: ARN },
    );
    const alone = atPlace({ ...fleetDeps, config: single }, {}, { invokedFunctionArn: ARN });
    // Assert
    expect(scope.mock.calls).toEqual([[SCOPE], [undefined]]);
    expect(child.place).toEqual(THERE);
    expect(alone.place).toEqual(HERE);
  });

  it('without a scope, a document is exactly the single-account one', () => {
    const m = new Metrics({ namespace: 'Steward', serviceName: 'backup' })
      .setScope(SCOPE)
      .setScope(undefined);
    m.addMetric('SnapshotsCreated', MetricUnit.Count, 1);
    m.publishStoredMetrics();
    expect(docs()[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
  });

  it('publishes a per-target series only for what is news there: not a zero, not a gauge marked fleet-wide', () => {
    // Prepare
    const m = new Metrics({ namespace: 'Steward', serviceName: 'retention' }).setScope(SCOPE);
    // Act
    m.addMetric('SnapshotsDeleted', MetricUnit.Count, 4);
    m.addMetric('SnapshotsDeferred', MetricUnit.Count, 0);
    m.addMetric('DeletionAllowance', MetricUnit.Count, 40, { perTarget: 0 });
    m.publishStoredMetrics();
    // Assert: the usual set carries all three (the fleet's totals), the scoped set only the deletions.
    const [doc, ...more] = docs();
    expect(more).toEqual([]);
    expect(doc!._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Steward',
        Dimensions: [['service']],
        Metrics: ['SnapshotsDeleted', 'SnapshotsDeferred', 'DeletionAllowance'].map((Name) => ({
          Name,
          Unit: 'Count',
        })),
      },
      {
        Namespace: 'Steward',
        Dimensions: [['service', 'Account', 'Region']],
        Metrics: [{ Name: 'SnapshotsDeleted', Unit: 'Count' }],
      },
    ]);
    // The place stays in the log line: Logs Insights can still break every metric down by target.
    expect(doc).toMatchObject({ ...SCOPE, SnapshotsDeleted: 4, SnapshotsDeferred: 0, DeletionAllowance: 40 });
  });

  it('publishes nothing per target when nothing is news there, and the fleet-wide series as before', () => {
    // Prepare
    const m = new Metrics({ namespace: 'Steward', serviceName: 'scaling' }).setScope(SCOPE);
    // Act
    m.addMetric('ScalingSkipped', MetricUnit.Count, 2, { perTarget: 0 });
    m.publishStoredMetrics();
    // Assert
    const [doc, ...more] = docs();
    expect(more).toEqual([]);
    expect(doc!._aws.CloudWatchMetrics.map((d) => d.Dimensions)).toEqual([[['service']]]);
    expect(doc).toMatchObject({ ScalingSkipped: 2 });
  });

  it("writes a target's part of a count in a second document, under the scoped set only", () => {
    // Prepare
    const m = new Metrics({ namespace: 'Steward', serviceName: 'scaling' }).setScope(SCOPE);
    // Act: three skips, one of them news (a cooldown), two a resource resting at its floor.
    m.addMetric('ScalingActions', MetricUnit.Count, 1);
    m.addMetric('ScalingSkipped', MetricUnit.Count, 3, { perTarget: 1 });
    m.publishStoredMetrics();
    // Assert
    const [fleetWide, placed, ...more] = docs();
    expect(more).toEqual([]);
    expect(fleetWide!._aws.CloudWatchMetrics.map((d) => d.Dimensions)).toEqual([
      [['service']],
      [['service', 'Account', 'Region']],
    ]);
    expect(fleetWide).toMatchObject({ ScalingActions: 1, ScalingSkipped: 3 });
    expect(placed!._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'Steward',
        Dimensions: [['service', 'Account', 'Region']],
        Metrics: [{ Name: 'ScalingSkipped', Unit: 'Count' }],
      },
    ]);
    expect(placed).toMatchObject({ ...SCOPE, ScalingSkipped: 1 });
    expect(placed).not.toHaveProperty('ScalingActions');
  });

  it('marks the per-target part line, so a Logs Insights sum over the lines counts each skip once', () => {
    // Prepare: README Fleet › Metrics: every EMF line carries Account and Region for Logs Insights
    const m = new Metrics({ namespace: 'Steward', serviceName: 'scaling' }).setScope(SCOPE);
    m.addMetric('ScalingSkipped', MetricUnit.Count, 3, { perTarget: 1 });
    // Act
    m.publishStoredMetrics();
    // Assert: `filter not ispresent(perTargetPart) | stats sum(ScalingSkipped)` reads the 3 that happened.
    const lines = docs() as Record<string, unknown>[];
    expect(lines).toHaveLength(2);
    expect(lines[0]).not.toHaveProperty('perTargetPart');
    expect(lines[1]).toMatchObject({ perTargetPart: true, ScalingSkipped: 1 });
    const counted = lines.filter((l) => !('perTargetPart' in l)).map((l) => l.ScalingSkipped as number);
    expect(counted.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('refuses a per-target part outside 0 to the value, naming the metric', () => {
    const m = new Metrics({ namespace: 'Steward' });
    expect(() => m.addMetric('ScalingSkipped', MetricUnit.Count, 2, { perTarget: 3 })).toThrow(
      /ScalingSkipped: perTarget 3/,
    );
  });

  it('refuses a blank scope value', () => {
    expect(() => new Metrics().setScope({ Account: ' ' })).toThrow(/Account/);
  });
});

describe("dumpPolicies: a dump is kept with its instance's target's overrides", () => {
  const policiesOf = dumpPolicies(fleet);
  const dump = (tags: Record<string, string>, object = true) => ({
    kind: 'ebs' as const,
    id: 's3://team-dumps/steward/daily/i-0123456789abcdef0/x.dump',
    arn: 'arn:aws:s3:::team-dumps/steward/daily/i-0123456789abcdef0/x.dump',
    region: 'eu-west-1',
    sourceId: 'i-0123456789abcdef0',
    status: 'available' as const,
    type: 'manual' as const,
    tags: { [Tag.managed]: 'true', [Tag.policy]: 'daily', ...tags },
    ...(object ? { object: { bucket: 'team-dumps', key: 'x' } } : {}),
  });
  const there = { [Tag.account]: '333333333333', [Tag.region]: 'eu-west-1' };
  // The retention policy a dump of the `daily` backup policy is judged by.
  const judged = (p: ReturnType<typeof policiesOf>) => {
    const name = p?.backup.policies.daily?.retention;
    return name === undefined
      ? undefined
      : { name, ...p!.retention.policies[name]!, unresolved: p!.unresolved };
  };

  it("names the target's policies for a dump of an account-region a target lists (targets[2]: 14 dailies)", () => {
    expect(judged(policiesOf(dump(there)))).toMatchObject({ name: 'standard', daily: 14 });
    expect(judged(policiesOf(dump(there)))?.unresolved).toBeUndefined();
    expect(
      judged(policiesOf(dump({ [Tag.account]: '222222222222', [Tag.region]: 'eu-central-1' })))?.daily,
    ).toBe(30);
  });

  it("names none (the run's own) for a snapshot, and for any dump of a stage of one account-region", () => {
    expect(policiesOf(dump(there, false))).toBeUndefined();
    const alone = dumpPolicies(single);
    expect(alone(dump({}))).toBeUndefined();
    expect(alone(dump({ [Tag.account]: '444444444444', [Tag.region]: 'eu-west-1' }))).toBeUndefined();
  });

  // Two OU targets with overrides; 333333333333 is also an account target (14 dailies).
  const OU_A = 'ou-ab12-cd34ef56';
  const OU_B = 'ou-zz99-abcdefgh';
  const ous = parseConfig(
    {
      ...FLEET_CONFIG,
      targets: [
        ...FLEET_CONFIG.targets!.slice(0, 3),
        {
          organizationalUnit: OU_A,
          regions: ['eu-west-1', 'eu-central-1'],
          retention: { policies: { standard: { daily: 21, weekly: 8 } } },
        },
        // Points the `daily` backup policy at `short`, and keeps 45 of those.
        {
          organizationalUnit: OU_B,
          backup: { policies: { daily: { retention: 'short' } } },
          retention: { policies: { short: { daily: 45 } } },
        },
      ],
    },
    'prod',
  );
  const ouPolicies = dumpPolicies(ous);
  const at = (account: string, region: string, ou?: string) => ({
    [Tag.account]: account,
    [Tag.region]: region,
    ...(ou !== undefined ? { [Tag.ou]: ou } : {}),
  });

  it("names an OU target's overrides for a dump of an account listed from it (steward:ou)", () => {
    expect(judged(ouPolicies(dump(at('444444444444', 'eu-west-1', OU_A))))).toEqual({
      name: 'standard',
      daily: 21,
      weekly: 8,
      monthly: 0,
      yearly: 0,
      keepAtLeast: 3,
      unresolved: undefined,
    });
  });

  it('stacks them as the fan-out child did: the OU targets in config order, the account target last', () => {
    // 333333333333 is in OU_A and an account target: its own 14 dailies, the OU's 8 weeklies.
    expect(judged(ouPolicies(dump(at('333333333333', 'eu-west-1', OU_A))))).toMatchObject({
      name: 'standard',
      daily: 14,
      weekly: 8,
    });
    // In both OUs (either order in the tag): OU_B, later in the config, points `daily` at its 45 `short`.
    for (const tag of [`${OU_A} ${OU_B}`, `${OU_B} ${OU_A}`])
      expect(judged(ouPolicies(dump(at('444444444444', 'eu-west-1', tag))))).toMatchObject({
        name: 'short',
        daily: 45,
      });
  });

  it('keeps a dump whose target cannot be resolved with the longest candidate policies, and says why', () => {
    // An OU account's dump written before steward:ou: every target of its region could hold it.
    expect(judged(ouPolicies(dump(at('444444444444', 'eu-west-1'))))).toEqual({
      name: 'standard/short (longest)',
      daily: 45,
      weekly: 8,
      monthly: 0,
      yearly: 0,
      keepAtLeast: 3,
      unresolved: '444444444444 eu-west-1 is no account target and the dump names no steward:ou',
    });
    // An OU that is no target in the dump's region (OU_B lists eu-west-1 only): the stage's 30 beat OU_A's 21.
    expect(judged(ouPolicies(dump(at('444444444444', 'eu-central-1', OU_B))))).toMatchObject({
      name: 'standard (longest)',
      daily: 30,
      weekly: 8,
      unresolved: `steward:ou names ${OU_B}, no organizational-unit target in eu-central-1 (removed from targets?)`,
    });
    // More OUs than one tag holds, and no place tags at all (every target counts).
    expect(judged(ouPolicies(dump(at('444444444444', 'eu-west-1', 'too-many-to-tag'))))?.unresolved).toBe(
      'steward:ou="too-many-to-tag" names no organizational unit',
    );
    expect(judged(ouPolicies(dump({})))).toMatchObject({
      name: 'standard/short (longest)',
      daily: 45,
      unresolved: 'no steward:account and steward:region tags (written before dumps named their place)',
    });
    // Without an OU target, a dump of an account no target lists: the stage's 30 beat 333333333333's 14.
    expect(judged(policiesOf(dump(at('444444444444', 'eu-west-1'))))).toMatchObject({
      name: 'standard (longest)',
      daily: 30,
    });
  });

  it("counts the run's own policies among the candidates (never shorter than the hub's run)", () => {
    const run = {
      ...ous,
      retention: {
        ...ous.retention,
        policies: {
          ...ous.retention.policies,
          standard: { daily: 90, weekly: 0, monthly: 2, yearly: 0, keepAtLeast: 3 },
        },
      },
    };
    expect(judged(dumpPolicies(ous, run)(dump({})))).toMatchObject({ daily: 90, monthly: 2 });
  });
});

describe('longestOf: never shorter than any of its policy sets', () => {
  const DAY = 86_400_000;
  const NOW = Date.parse('2026-06-30T12:00:00Z');
  const policy = fc.record({
    daily: fc.integer({ min: 0, max: 40 }),
    weekly: fc.integer({ min: 0, max: 10 }),
    monthly: fc.integer({ min: 0, max: 6 }),
    yearly: fc.integer({ min: 0, max: 2 }),
    keepAtLeast: fc.integer({ min: 1, max: 5 }),
  });
  // Each set points the backup policy `p` at one of two retention policies.
  const set = fc.record({ name: fc.constantFrom('a', 'b'), a: policy, b: policy });
  const asSet = (x: { name: string; a: RetentionPolicy; b: RetentionPolicy }) => ({
    backup: { policies: { p: { ...single.backup.policies.standard!, retention: x.name } } },
    retention: { policies: { a: x.a, b: x.b } },
  });

  it('keeps every dump any of the sets keeps, over random histories', () => {
    fc.assert(
      fc.property(
        fc.array(set, { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { maxLength: 60 }),
        (sets, ages) => {
          const snapshots = ages.map((age) => ({
            kind: 'ebs' as const,
            id: `s3://b/k/${age}.dump`,
            arn: `arn:aws:s3:::b/k/${age}.dump`,
            region: 'eu-west-1',
            sourceId: 'i-0123456789abcdef0',
            createdAt: new Date(NOW - age * DAY).toISOString(),
            status: 'available' as const,
            type: 'manual' as const,
            tags: { [Tag.managed]: 'true', [Tag.policy]: 'p' },
            object: { bucket: 'b', key: `k/${age}.dump` },
          }));
          const kept = (p: PolicySet) =>
            new Set(
              planRetention(snapshots, retentionPolicyResolver(p), new Date(NOW), {})
                .verdicts.filter((v) => v.action === 'keep')
                .map((v) => v.id),
            );
          const longest = kept(longestOf(sets.map(asSet)));
          for (const s of sets) for (const id of kept(asSet(s))) expect(longest.has(id)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
