import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  fireTimes,
  parseSchedule,
  previousFire,
  ScheduleError,
  typicalInterval,
} from '../../../shared/report/schedule.js';

const iso = (ds: Date[] | undefined) => ds?.map((d) => d.toISOString());

describe('parseSchedule', () => {
  it.each([
    [
      'daily at 03:00 UTC',
      'cron(0 3 * * ? *)',
      'UTC',
      ['2026-11-01T03:00:00.000Z', '2026-11-02T03:00:00.000Z', '2026-11-03T03:00:00.000Z'],
    ],
    ['first of the month at 05:00', 'cron(0 5 1 * ? *)', 'UTC', ['2026-11-01T05:00:00.000Z']],
    [
      'weekdays at 09:15 by name',
      'cron(15 9 ? * MON-FRI *)',
      'UTC',
      ['2026-11-02T09:15:00.000Z', '2026-11-03T09:15:00.000Z'],
    ],
    [
      'every 20 minutes in hour 1',
      'cron(0/20 1 * * ? *)',
      'UTC',
      ['2026-11-01T01:00:00.000Z', '2026-11-01T01:20:00.000Z', '2026-11-01T01:40:00.000Z'],
    ],
    ['last day of the month', 'cron(0 0 L * ? *)', 'UTC', []],
    ['first Monday (2#1)', 'cron(0 6 ? * 2#1 *)', 'UTC', ['2026-11-02T06:00:00.000Z']],
    [
      '03:00 in Berlin is 02:00 UTC in winter',
      'cron(0 3 * * ? *)',
      'Europe/Berlin',
      ['2026-11-01T02:00:00.000Z', '2026-11-02T02:00:00.000Z', '2026-11-03T02:00:00.000Z'],
    ],
  ])('%s: %s', (_, expr, tz, expected) => {
    // Act
    const s = parseSchedule(expr, tz);
    const fires = fireTimes(s, new Date('2026-11-01T00:00:00Z'), new Date('2026-11-03T23:59:59Z'));
    // Assert
    expect(iso(fires)?.slice(0, expected.length)).toEqual(expected);
    if (!expected.length) expect(fires).toEqual([]);
  });

  it('finds the last day and the last Friday of a month', () => {
    // Act
    const last = fireTimes(
      parseSchedule('cron(0 0 L * ? *)'),
      new Date('2026-02-01T00:00:00Z'),
      new Date('2026-03-01T00:00:00Z'),
    );
    const lastFriday = fireTimes(
      parseSchedule('cron(0 0 ? * 6L *)'),
      new Date('2026-11-01T00:00:00Z'),
      new Date('2026-11-30T23:59:00Z'),
    );
    // Assert
    expect(iso(last)).toEqual(['2026-02-28T00:00:00.000Z']);
    expect(iso(lastFriday)).toEqual(['2026-11-27T00:00:00.000Z']);
  });

  it('skips a wall time that daylight saving removes, and fires once on the day it repeats', () => {
    // Act: Berlin springs forward 2026-03-29 02:00 → 03:00 and falls back 2026-10-25 03:00 → 02:00.
    const spring = fireTimes(
      parseSchedule('cron(30 2 * * ? *)', 'Europe/Berlin'),
      new Date('2026-03-28T00:00:00Z'),
      new Date('2026-03-30T23:00:00Z'),
    );
    const autumn = fireTimes(
      parseSchedule('cron(30 2 25 10 ? *)', 'Europe/Berlin'),
      new Date('2026-10-24T00:00:00Z'),
      new Date('2026-10-26T00:00:00Z'),
    );
    // Assert
    expect(iso(spring)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
    expect(autumn).toHaveLength(1);
  });

  it('reads rate() as an interval and at() as one instant', () => {
    // Act
    const rate = parseSchedule('rate(6 hours)');
    const at = parseSchedule('at(2026-11-05T10:00:00)', 'Europe/Berlin');
    // Assert
    expect(rate).toMatchObject({ kind: 'rate', intervalMs: 6 * 3_600_000 });
    expect(fireTimes(rate, new Date(0), new Date())).toBeUndefined();
    expect(at).toMatchObject({ kind: 'at', at: new Date('2026-11-05T09:00:00Z') });
  });

  it.each([
    ['cron(0 3 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 3 * *)', /6 fields/],
    ['cron(99 3 * * ? *)', /minutes: 99 is outside 0-59/],
    ['cron(0 3 ? * FOO *)', /day-of-week: "FOO"/],
    ['rate(0 hours)', /rate/],
    ['daily', /is not cron/],
  ])('refuses %s', (expr, message) => {
    // Act / Assert
    expect(() => parseSchedule(expr)).toThrow(ScheduleError);
    expect(() => parseSchedule(expr)).toThrow(message);
  });

  it('reads a UTC schedule without Intl (its first DateTimeFormat loads the time-zone data at cold start)', async () => {
    // Prepare: a fresh module, as at cold start (formatters are cached per module)
    vi.resetModules();
    const fresh = await import('../../../shared/report/schedule.js');
    const intl = vi.spyOn(Intl, 'DateTimeFormat');

    // Act
    const fires = fresh.fireTimes(
      fresh.parseSchedule('cron(0 3 * * ? *)'),
      new Date('2026-11-01T00:00:00Z'),
      new Date('2026-11-15T00:00:00Z'),
    );

    // Assert
    expect(fires).toHaveLength(14);
    expect(intl).not.toHaveBeenCalled();
    intl.mockRestore();
  });

  it('refuses an unknown time zone', () => {
    expect(() => parseSchedule('cron(0 3 * * ? *)', 'Mars/Olympus')).toThrow(/unknown time zone/);
  });
});

describe('previousFire and typicalInterval', () => {
  it('returns the last fire at or before the time, across a month boundary', () => {
    // Act
    const daily = previousFire(parseSchedule('cron(0 3 * * ? *)'), new Date('2026-11-23T02:59:00Z'));
    const monthly = previousFire(parseSchedule('cron(0 5 1 * ? *)'), new Date('2026-11-23T00:00:00Z'));
    const exact = previousFire(parseSchedule('cron(0 3 * * ? *)'), new Date('2026-11-23T03:00:00Z'));
    // Assert
    expect(daily?.toISOString()).toBe('2026-11-22T03:00:00.000Z');
    expect(monthly?.toISOString()).toBe('2026-11-01T05:00:00.000Z');
    expect(exact?.toISOString()).toBe('2026-11-23T03:00:00.000Z');
  });

  it('knows a daily schedule fires daily and a monthly one about monthly', () => {
    const at = new Date('2026-11-23T00:00:00Z');
    expect(typicalInterval(parseSchedule('cron(0 3 * * ? *)'), at)).toBe(86_400_000);
    expect(typicalInterval(parseSchedule('cron(0 5 1 * ? *)'), at)).toBeGreaterThanOrEqual(28 * 86_400_000);
    expect(typicalInterval(parseSchedule('rate(1 hour)'), at)).toBe(3_600_000);
  });
});

// An independent oracle for UTC: test every minute of the window against the six fields.
const minuteMatches = (
  fields: { m: number[]; h: number[]; dom: number[] | '?'; dow: number[] | '?' },
  t: Date,
) =>
  fields.m.includes(t.getUTCMinutes()) &&
  fields.h.includes(t.getUTCHours()) &&
  (fields.dom === '?' || fields.dom.includes(t.getUTCDate())) &&
  (fields.dow === '?' || fields.dow.includes(t.getUTCDay() + 1));

describe('fireTimes properties', () => {
  it('lists exactly the minutes a naive minute-by-minute check matches (UTC)', () => {
    const set = (max: number, min: number) =>
      fc
        .uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 3 })
        .map((a) => a.sort((x, y) => x - y));
    fc.assert(
      fc.property(
        set(59, 0),
        set(23, 0),
        fc.oneof(set(31, 1), fc.constant<'?'>('?')),
        set(7, 1),
        fc.integer({ min: 0, max: 2000 }),
        (m, h, domRaw, dowRaw, startDay) => {
          const dom = domRaw;
          const dow = dom === '?' ? dowRaw : ('?' as const);
          const expr = `cron(${m.join(',')} ${h.join(',')} ${dom === '?' ? '?' : dom.join(',')} * ${dow === '?' ? '?' : dow.join(',')} *)`;
          const from = new Date(Date.UTC(2025, 0, 1) + startDay * 86_400_000);
          const to = new Date(from.getTime() + 3 * 86_400_000);
          const expected: string[] = [];
          for (let t = from.getTime(); t <= to.getTime(); t += 60_000) {
            if (minuteMatches({ m, h, dom, dow }, new Date(t))) expected.push(new Date(t).toISOString());
          }
          expect(iso(fireTimes(parseSchedule(expr), from, to))).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});
