import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firesEveryDay } from '../../../shared/cost/service.js';
import { fireTimes, parseSchedule } from '../../../shared/report/schedule.js';

const DAY_MS = 86_400_000;

/** The answer by the cron parser alone: every gap of the fires of the last two weeks is 24 h. */
const byParser = (expression: string, at: Date): boolean => {
  const s = parseSchedule(expression);
  if (s.kind === 'rate') return s.intervalMs === DAY_MS;
  const fires = fireTimes(s, new Date(at.getTime() - 14 * DAY_MS), at) ?? [];
  return (
    fires.length >= 13 && fires.every((f, i) => i === 0 || f.getTime() - fires[i - 1]!.getTime() === DAY_MS)
  );
};

const instant = fc
  .integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 11, 31) })
  .map((ms) => new Date(ms));

describe('firesEveryDay (is a scheduled cost check daily?)', () => {
  it('answers a plain daily cron as the parser does, without it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 23 }),
        fc.constantFrom('* * ?', '? * *'),
        fc.constantFrom('', ' ', '  '),
        instant,
        (m, h, days, pad, at) => {
          const expression = `${pad}cron(${pad}${m} ${h} ${days} *${pad})${pad}`;
          expect(firesEveryDay(expression, at)).toBe(true);
          expect(byParser(expression, at)).toBe(true);
        },
      ),
    );
  });

  it('leaves every other expression to the parser, with its answer and its errors', () => {
    const others = [
      'cron(0 7 ? * MON-FRI *)',
      'cron(0 7 1 * ? *)',
      'cron(0 7 * 1-6 ? *)',
      'cron(0 7 * * ? 2026)',
      'cron(0 7,19 * * ? *)',
      'cron(0/30 7 * * ? *)',
      'cron(07 07 * * ? *)',
      'rate(1 day)',
      'rate(24 hours)',
      'rate(1 hour)',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...others), instant, (expression, at) => {
        expect(firesEveryDay(expression, at)).toBe(byParser(expression, at));
      }),
    );
    // Out of range: the parser's error, not a daily answer.
    for (const bad of ['cron(60 7 * * ? *)', 'cron(0 24 * * ? *)', 'cron(0 7 * * * *)'])
      expect(() => firesEveryDay(bad, new Date())).toThrow(/minutes|hours|exactly one/);
  });
});
