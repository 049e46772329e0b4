import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run as backup } from '../../functions/backup/handler.js';
import { run as cost } from '../../functions/cost/handler.js';
import { run as drillVerify } from '../../functions/drill-verify/handler.js';
import { run as drill } from '../../functions/drill/handler.js';
import { run as retention } from '../../functions/retention/handler.js';
import { run as scaling } from '../../functions/scaling/handler.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { EventShapeError, PartialFailureError } from '../../shared/errors.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { scalingConfigInput } from '../shared/scaling/fixtures.js';

/*
 * Every sample event in events/ through every function: each is accepted, ignored with a reason, or rejected
 * with an EventShapeError naming the field; nothing crashes. Ports are stand-ins that stop the run the moment
 * it reaches one (the event was understood and work began: accepted), so this proves the reading of events,
 * not the work; each capability's own tests prove that.
 */

const ROOT = fileURLToPath(new URL('../../events/', import.meta.url));
// AWS API responses kept as recorded data for the cost and retention tests, not events.
const DATA = ['inventory/', 'cost/get-'];
const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : [],
  );
const fixtures = walk(ROOT)
  .map((f) => relative(ROOT, f))
  .filter((f) => !DATA.some((d) => f.startsWith(d)))
  .sort();

class Reached extends Error {}
/** A port that stops the run at its first use: the handler understood the event and started working. */
const stop = (): never => {
  throw new Reached('reached a port');
};
const port = () =>
  new Proxy({}, { get: (_t, k) => (k === 'then' ? undefined : k === 'region' ? 'us-east-1' : stop) });

// One config answering every alarm the samples name: steward's own samples and the AWS documentation's.
const config = parseConfig(
  {
    ...scalingConfigInput,
    region: 'us-east-1',
    drill: { enabled: true, targets: { 'orders-db': { profile: { database: 'app' } } } },
    scaling: {
      ...scalingConfigInput.scaling,
      staleAfterMinutes: 1440,
      rules: {
        ...scalingConfigInput.scaling.rules,
        ...Object.fromEntries(
          [
            'ServerCpuTooHigh',
            'TotalNetworkTrafficTooHigh',
            'EC2 CPU Utilization Anomaly',
            'ServiceAggregatedAlarm',
            'DynamoDBInsightsAlarm',
            'lambda-demo-metric-alarm',
            'CompositeDemo.Main',
          ].map((name, i) => [
            `aws-doc-${i}`,
            { alarm: { name }, resource: 'my-db-instance', action: { type: 'notify' } },
          ]),
        ),
        // The cluster of events/rds/cluster-failover.json: its failover restarts this rule's cooldown.
        'aws-doc-cluster': {
          alarm: { name: 'analytics-cpu-high' },
          resource: 'analytics',
          kind: 'aurora-cluster',
          action: { type: 'notify' },
        },
      },
    },
  } satisfies StewardConfigInput,
  'test',
);

/** Just after the event, so a sample is neither stale nor from the future. */
const nowFor = (e: unknown): Date => {
  const o = e as {
    time?: string;
    requestedAt?: string;
    detail?: { state?: { timestamp?: string } };
    alarmData?: unknown;
  };
  const t = o?.detail?.state?.timestamp ?? o?.time ?? o?.requestedAt;
  const d = t ? new Date(t.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : new Date('2026-01-15T10:30:00Z');
  return Number.isNaN(d.getTime()) ? new Date('2026-01-15T10:30:00Z') : new Date(d.getTime() + 5_000);
};

const base = (e: unknown) => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => nowFor(e) });
const HANDLERS: Record<string, (e: unknown) => Promise<unknown>> = {
  backup: (e) =>
    backup(e, {
      ...base(e),
      primary: port(),
      dr: port(),
      snapshots: { primary: port(), dr: port() },
    } as never),
  retention: (e) => retention(e, { ...base(e), stores: [port()], budget: port() } as never),
  cost: (e) => cost(e, { ...base(e), source: port(), ledger: port() } as never),
  drill: (e) =>
    drill(e, {
      ...base(e),
      restore: port(),
      credentials: port(),
      tokens: port(),
      signal: port(),
      reports: port(),
      network: {},
      executions: port(),
    } as never),
  'drill-verify': (e) => drillVerify(e, { ...base(e), credentials: port() } as never),
  scaling: (e) => scaling(e, { ...base(e), resources: port(), state: port(), alarms: port() } as never),
};

type Outcome = 'accepted' | 'ignored' | 'rejected';

const outcomeOf = async (handler: string, e: unknown): Promise<{ outcome: Outcome; why: string }> => {
  try {
    const r = (await HANDLERS[handler]!(e)) as Record<string, unknown>;
    const ignored =
      r?.action === 'ignored' ||
      r?.outcome === 'ignored' ||
      (typeof r?.summary === 'string' && r.summary.startsWith('ignored: '));
    if (ignored) return { outcome: 'ignored', why: String(r.reason ?? r.summary) };
    return { outcome: 'accepted', why: 'returned' };
  } catch (err) {
    // Reached a port, directly or as the cause of the run's one failure report.
    if (
      err instanceof Reached ||
      (err instanceof PartialFailureError && err.errors.every((x) => x instanceof Reached))
    )
      return { outcome: 'accepted', why: 'reached its ports' };
    if (err instanceof EventShapeError)
      return { outcome: 'rejected', why: err.issues.join('; ') || err.message };
    throw err;
  }
};

// What each sample is for: the function that accepts it (or ignores it, saying why). Everywhere else: rejected
// naming the field, or ignored with a reason.
const HOME: Record<string, Record<string, Outcome>> = {
  'backup/aws-classic-scheduled-event.json': { backup: 'rejected' },
  'backup/reconcile-copies.json': { backup: 'accepted' },
  'ebs/aws-copy-snapshot.json': { backup: 'accepted' },
  'ebs/aws-create-snapshot.json': { backup: 'accepted' },
  'ebs/aws-create-snapshots.json': { backup: 'accepted' },
  'ebs/aws-create-snapshots-failed.json': { backup: 'ignored' },
  'elasticache/snapshot-created.json': { backup: 'accepted' },
  'backup/scheduled.json': { backup: 'accepted' },
  'backup/snapshot-request.json': { backup: 'accepted' },
  'cost/anomaly-eventbridge.json': { cost: 'accepted' },
  'cost/anomaly-sns.json': { cost: 'accepted' },
  'cost/dry-run.json': { cost: 'accepted' },
  'cost/on-demand.json': { cost: 'accepted' },
  'cost/scheduled.json': { cost: 'accepted' },
  'drill/aws-execution-aborted.json': { drill: 'ignored' },
  'drill/aws-execution-failed.json': { drill: 'ignored' },
  'drill/aws-execution-succeeded.json': { drill: 'ignored' },
  'drill/aws-execution-timed-out.json': { drill: 'ignored' },
  'drill/janitor.json': { drill: 'accepted' },
  'drill/rds-restore-complete.json': { drill: 'accepted' },
  // The state machine's execution input, not a function's event: the drill function names what it expects.
  'drill/start.json': { drill: 'rejected' },
  'drill/task-select.json': { drill: 'accepted' },
  // The Health User Guide's samples: a retirement is a scheduled change (accepted); the public issue is about
  // af-south-1, not this run's region, and the drive sample is the backup-region copy (both ignored).
  'health/aws-ec2-instance-retirement-scheduled.json': { backup: 'accepted' },
  'health/aws-ec2-instance-store-drive-degraded-backup.json': { backup: 'ignored' },
  'health/aws-ec2-operational-issue.json': { backup: 'ignored' },
  'health/elasticache-maintenance-scheduled.json': { backup: 'accepted' },
  'health/rds-maintenance-scheduled.json': { backup: 'accepted' },
  // Both: backup tells about a protected database's failover; scaling restarts a rule database's cooldown.
  'rds/aws-instance-failover.json': { backup: 'accepted', scaling: 'accepted' },
  'rds/cluster-failover.json': { backup: 'accepted', scaling: 'accepted' },
  'rds/snapshot-copied.json': { backup: 'accepted' },
  'rds/snapshot-created.json': { backup: 'accepted' },
  // The report function's schedules; the report handler is not in this harness yet: the others refuse them.
  'report/evidence.json': {},
  'report/status-check.json': {},
  'retention/dry-run.json': { retention: 'accepted' },
  'retention/scheduled.json': { retention: 'accepted' },
  'scaling/alarm-ok.json': { scaling: 'accepted' },
  'scaling/alarm-state-change.json': { scaling: 'accepted' },
  'scaling/approve.json': { scaling: 'accepted' },
  'scaling/aws-alarm-config-create.json': { scaling: 'ignored' },
  'scaling/aws-alarm-config-delete.json': { scaling: 'accepted' },
  'scaling/aws-alarm-config-update.json': { scaling: 'ignored' },
  'scaling/aws-alarm-contributor-state-change.json': { scaling: 'ignored' },
  'scaling/aws-anomaly-detection-alarm.json': { scaling: 'accepted' },
  'scaling/aws-composite-alarm-suppressed.json': { scaling: 'accepted' },
  'scaling/aws-lambda-action-composite-alarm.json': { scaling: 'accepted' },
  'scaling/aws-lambda-action-metric-alarm.json': { scaling: 'accepted' },
  'scaling/aws-metric-alarm-muted.json': { scaling: 'accepted' },
  'scaling/aws-metric-math-alarm.json': { scaling: 'accepted' },
  'scaling/aws-multi-time-series-alarm.json': { scaling: 'accepted' },
  'scaling/run-playbook.json': { scaling: 'accepted' },
  'scaling/scale-in-check.json': { scaling: 'accepted' },
  'scaling/sns-alarm.json': { scaling: 'accepted' },
};

describe('every sample event through every function', () => {
  it('knows where every sample belongs (a new sample needs a home here and a source in events/README.md)', () => {
    expect(fixtures).toEqual(Object.keys(HOME).sort());
    const sources = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const f of fixtures) expect(sources, `events/README.md lists ${f}`).toContain(`\`${f}\``);
  });

  describe.each(fixtures)('%s', (fixture) => {
    const event = JSON.parse(readFileSync(join(ROOT, fixture), 'utf8')) as unknown;
    it.each(Object.keys(HANDLERS))(
      '%s: accepted, ignored with a reason, or rejected naming the field',
      async (h) => {
        // Act
        const { outcome, why } = await outcomeOf(h, structuredClone(event));

        // Assert
        const expected = HOME[fixture]![h];
        if (expected) expect(`${outcome}: ${why}`).toMatch(new RegExp(`^${expected}: `));
        else expect(['ignored', 'rejected']).toContain(outcome);
        if (outcome === 'ignored') expect(why.length).toBeGreaterThan(10);
        if (outcome === 'rejected')
          for (const issue of why.split('\n')) expect(issue).toMatch(/^[\w.\-[\]<>()#]+: \S/);
      },
    );
  });
});
