import { describe, expect, it } from 'vitest';
import alarmEvent from '../../../events/scaling/alarm-state-change.json' with { type: 'json' };
import approveEvent from '../../../events/scaling/approve.json' with { type: 'json' };
import playbookEvent from '../../../events/scaling/run-playbook.json' with { type: 'json' };
import scaleInEvent from '../../../events/scaling/scale-in-check.json' with { type: 'json' };
import snsEvent from '../../../events/scaling/sns-alarm.json' with { type: 'json' };
import { EventShapeError } from '../../../shared/errors.js';
import type { NamedRule } from '../../../shared/scaling/model.js';
import { ruleFor } from '../../../shared/scaling/alarm-event.js';
import { matchRule, namedRules, parseScalingRequest } from '../../../shared/scaling/request.js';
import { NOW, scalingConfig } from './fixtures.js';

const clone = <T>(v: T): T => structuredClone(v);
const parse = (raw: unknown) => parseScalingRequest(raw, scalingConfig().scaling, NOW);
const issuesOf = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof EventShapeError) return e.issues;
    throw e;
  }
  throw new Error('expected an EventShapeError');
};

describe('parseScalingRequest', () => {
  it('reads an EventBridge alarm state change: name, state, previous state and the state timestamp (+0000)', () => {
    // Act
    const r = parse(alarmEvent);

    // Assert
    expect(r.action).toBe('alarms');
    if (r.action !== 'alarms') return;
    expect(r.items).toHaveLength(1);
    expect(r.items[0]!.rule.name).toBe('orders-db-cpu');
    expect(r.items[0]!.event).toMatchObject({
      alarmName: 'orders-db-cpu-high',
      state: 'ALARM',
      previousState: 'OK',
      at: new Date('2026-01-15T10:19:59.987Z'),
      source: 'eventbridge',
    });
  });

  it('unwraps an SNS-delivered alarm notification to the same shape', () => {
    // Act
    const r = parse(snsEvent);

    // Assert
    if (r.action !== 'alarms') throw new Error(r.action);
    expect(r.items[0]!.rule.name).toBe('sessions-redis-memory');
    expect(r.items[0]!.event).toMatchObject({
      alarmName: 'sessions-redis-memory-high',
      state: 'ALARM',
      previousState: 'OK',
      at: new Date('2026-01-15T10:30:12.345Z'),
      source: 'sns',
    });
  });

  it('turns a playbook run into an ALARM of its rule at the requested time', () => {
    // Act: two seconds after the request was stamped.
    const r = parseScalingRequest(playbookEvent, scalingConfig().scaling, new Date('2026-01-15T10:45:02Z'));

    // Assert
    if (r.action !== 'alarms') throw new Error(r.action);
    expect(r.items[0]!.rule.name).toBe('orders-db-failover');
    expect(r.items[0]!.event).toMatchObject({
      alarmName: 'orders-db-unhealthy',
      state: 'ALARM',
      at: new Date('2026-01-15T10:45:00Z'),
      source: 'direct',
    });
    expect(r.dryRun).toBe(false);
  });

  it('runs a playbook by rule name at now when no time is given, and keeps the dry-run flag', () => {
    // Act
    const r = parse({ action: 'run-playbook', rule: 'sessions-redis-recovery', dryRun: true });

    // Assert
    if (r.action !== 'alarms') throw new Error(r.action);
    expect(r.items[0]!.event).toMatchObject({ alarmName: 'sessions-redis-unhealthy', at: NOW });
    expect(r.dryRun).toBe(true);
  });

  it('reads approve and scale-in-check payloads', () => {
    expect(parse(approveEvent)).toEqual({ action: 'approve', id: 'e34135da0d95', dryRun: false });
    expect(parse(scaleInEvent)).toEqual({ action: 'scale-in-check', dryRun: false });
  });

  it.each<[string, (e: typeof alarmEvent) => unknown, string]>([
    [
      'without an alarm name',
      (e) => delete (e.detail as Partial<typeof e.detail>).alarmName,
      'detail.alarmName',
    ],
    [
      'without a state timestamp',
      (e) => delete (e.detail.state as Partial<typeof e.detail.state>).timestamp,
      'detail.state.timestamp',
    ],
    [
      'with an unknown state',
      (e) => ((e.detail.state as { value: string }).value = 'BROKEN'),
      'detail.state.value',
    ],
    ['with a bad timestamp', (e) => (e.detail.state.timestamp = 'yesterday'), 'detail.state.timestamp'],
    [
      'from another detail-type',
      (e) => (e['detail-type'] = 'EC2 Instance State-change Notification'),
      'detail-type',
    ],
  ])('refuses an EventBridge event %s, naming the field', (_what, breakIt, path) => {
    // Prepare
    const bad = clone(alarmEvent);
    breakIt(bad);

    // Act
    const issues = issuesOf(() => parse(bad));

    // Assert
    expect(issues.join('\n')).toContain(`${path}:`);
  });

  it('refuses an alarm no rule answers, listing the alarms that are answered', () => {
    // Prepare
    const bad = clone(alarmEvent);
    bad.detail.alarmName = 'someone-elses-alarm';

    // Act
    const call = () => parse(bad);

    // Assert
    expect(call).toThrow(EventShapeError);
    expect(call).toThrow(/No scaling rule for alarm "someone-elses-alarm"/);
    expect(issuesOf(call)[0]).toMatch(/alarms answered: orders-db-cpu-high, .*billing-aurora-load-\*/);
  });

  it('names at most ten of the answered alarms, then how many more (a stage of 300 rules)', () => {
    // Prepare
    const rules = Array.from({ length: 300 }, (_, i) => ({
      ...namedRules(scalingConfig().scaling)[0]!,
      name: `r${i}`,
      alarm: { name: `db-${i}-cpu-high` },
    })) as NamedRule[];

    // Act
    const call = () => ruleFor(rules, 'nobody-listens', 'alarm');

    // Assert
    expect(issuesOf(call)[0]).toMatch(/alarms answered: db-0-cpu-high, .*db-9-cpu-high and 290 more\)$/);
    expect(issuesOf(call)[0]).not.toContain('db-10-cpu-high');
  });

  it('refuses an SNS message that is not a CloudWatch alarm notification', () => {
    // Prepare
    const notJson = clone(snsEvent);
    notJson.Records[0]!.Sns.Message = 'hello';
    const notAlarm = clone(snsEvent);
    notAlarm.Records[0]!.Sns.Message = JSON.stringify({ AlarmName: 'x' });

    // Act / Assert
    expect(issuesOf(() => parse(notJson))).toEqual([
      'Records.0.Sns.Message: is not JSON (not a CloudWatch alarm notification)',
    ]);
    expect(issuesOf(() => parse(notAlarm)).join('\n')).toMatch(/NewStateValue/);
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown action', { action: 'scale-everything' }, /action/],
    [
      'a playbook with both rule and alarm',
      { action: 'run-playbook', rule: 'a', alarm: 'b' },
      /exactly one of rule or alarm/,
    ],
    ['an unknown rule', { action: 'run-playbook', rule: 'nope' }, /not in scaling\.rules/],
    ['a malformed approval id', { action: 'approve', id: 'DROP TABLE' }, /12-character approval id/],
    [
      'no object at all',
      'ALARM',
      /neither an event steward reads nor a direct payload; .*accepts: .*alarmData/,
    ],
  ])('refuses %s', (_what, raw, message) => {
    expect(issuesOf(() => parse(raw)).join('\n')).toMatch(message);
  });
});

describe('matchRule', () => {
  const rules = namedRules(scalingConfig().scaling);

  it.each<[string, string | undefined]>([
    ['orders-db-cpu-high', 'orders-db-cpu'],
    ['orders-db-disk-low', 'orders-db-heads-up'],
    ['billing-aurora-load-connections', 'billing-readers'],
    ['billing-aurora', undefined],
  ])('%s is answered by %s (an exact name wins over a prefix)', (alarmName, expected) => {
    expect(matchRule(rules, alarmName)?.name).toBe(expected);
  });
});
