import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENTS, freshAlarm } from '../../bench/cold-start.js';
import { EXAMPLES_DIR, loadStage } from '../../shared/config/files.js';
import { parseAlarmTransition } from '../../shared/scaling/alarm-event.js';
import { guardEvent } from '../../shared/scaling/guard.js';

/** What the guards decide for an alarm event the bench sends the prod stage's scaling function, at `now`. */
const guarded = (event: unknown, now: Date) => {
  const { scaling } = loadStage(EXAMPLES_DIR, 'prod').config;
  const req = parseAlarmTransition(event as Record<string, unknown>, scaling, now);
  if (req.action !== 'alarms') throw new Error(`not an alarm transition: ${req.action}`);
  const [{ event: alarm, rule }] = req.items as [(typeof req.items)[number]];
  return {
    rule,
    verdict: guardEvent(alarm, rule, { seen: false }, now, {
      staleAfterMs: scaling.staleAfterMinutes * 60_000,
    }),
  };
};

describe("the cold-start bench's first invoke events", () => {
  it("sends scaling a fresh ALARM that the guards let through to a change (not the stale fixture's skip)", () => {
    // Prepare
    const fixture = EVENTS.scaling!() as { time: string; detail: { state: { timestamp: string } } };
    const now = new Date();

    // Act
    const { rule, verdict } = guarded(fixture, now);

    // Assert: a few seconds old, on a rule that changes its resource, and through every guard.
    expect(now.getTime() - Date.parse(fixture.time)).toBeLessThan(60_000);
    expect(rule.action.type).toBe('rds.scaleUp');
    expect(verdict).toEqual({ direction: 'out' });
  });

  it('would be stopped as stale with the fixture as it is (what the bench measured before)', () => {
    // Prepare
    const fixture: unknown = JSON.parse(readFileSync('events/scaling/alarm-state-change.json', 'utf8'));

    // Act
    const { verdict } = guarded(fixture, new Date());

    // Assert
    expect(verdict).toMatchObject({ skip: { verdict: 'skip', reason: 'stale' } });
  });

  it("points the verifier's first invoke at the bench's fake database (port 9, nothing, without one)", () => {
    // Act
    const at = (db?: { host: string; port: number }) =>
      (EVENTS['drill-verify']!(db) as { task: string; state: { target: { endpoint: unknown } } }).state
        .target;

    // Assert
    expect(at({ host: '127.0.0.1', port: 54321 }).endpoint).toEqual({ host: '127.0.0.1', port: 54321 });
    expect(at().endpoint).toEqual({ host: '127.0.0.1', port: 9 });
  });

  it('makes an alarm a few seconds before now, with a new event id (a redelivered id is a duplicate)', () => {
    // Prepare
    const fixture = {
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      time: 'x',
      detail: { state: { value: 'ALARM', timestamp: 'x' } },
    };
    const now = new Date('2026-12-01T19:00:00.500Z');

    // Act
    const a = freshAlarm(fixture, now) as typeof fixture;
    const b = freshAlarm(fixture, new Date(now.getTime() + 1000)) as typeof fixture;

    // Assert
    expect(a.time).toBe('2026-12-01T18:59:57Z');
    expect(a.detail.state).toEqual({ value: 'ALARM', timestamp: '2026-12-01T18:59:57.500+0000' });
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.id).not.toBe(fixture.id);
  });
});
