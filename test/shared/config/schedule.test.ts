import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scheduleProblem } from '../../../shared/config/schedule.js';

// Rules from the EventBridge Scheduler user guide ("Schedule types") and the EventBridge cron and rate
// expression references; each case below is one of their rules or examples.
describe('scheduleProblem', () => {
  it.each([
    'cron(0 3 * * ? *)',
    'cron(30 4 * * ? *)',
    'cron(0 5 1 * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0 8 ? * MON-FRI *)',
    'cron(0 8 ? * mon-fri *)',
    'cron(0 18 ? * 6L *)',
    'cron(0 10 ? * 3#2 *)',
    'cron(0 12 L * ? *)',
    'cron(0 12 15W * ? *)',
    'cron(0 0 1 JAN,JUL ? 2030-2035)',
    'cron(5,35 14 * * ? *)',
    'cron(0 3 ? * * *)',
    'cron(59 23 31 12 ? 2199)',
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 hour)',
    'rate(12 hours)',
    'rate(1 day)',
    'rate(7 days)',
    'at(2030-01-31T03:00:00)',
    'at(2028-02-29T23:59:59)',
  ])('accepts %s', (expression) => {
    expect(scheduleProblem(expression)).toBeUndefined();
  });

  it.each([
    [
      'cron(0 4 * * *)',
      'cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 5: EventBridge adds a year field and needs ? in one day field, did you mean cron(0 4 * * ? *)?',
    ],
    [
      'cron(0 4 ? * MON)',
      'cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 5: add the year field, and ? in day-of-month or day-of-week',
    ],
    [
      'cron(0 0 4 * * ? *)',
      'cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 7: EventBridge has no seconds field, drop the first one',
    ],
    ['cron(99 4 * * ? *)', 'minutes field: 99 is outside 0-59'],
    ['cron(0 24 * * ? *)', 'hours field: 24 is outside 0-23'],
    ['cron(0 3 0 * ? *)', 'day-of-month field: 0 is outside 1-31'],
    ['cron(0 3 1 13 ? *)', 'month field: 13 is outside 1-12'],
    ['cron(0 3 1 JANUARY ? *)', 'month field: "JANUARY" is not a number or JAN-DEC'],
    ['cron(0 3 ? * 8 *)', 'day-of-week field: 8 is outside 1-7'],
    ['cron(0 3 1 * ? 1969)', 'year field: 1969 is outside 1970-2199'],
    [
      'cron(0 3 * * * *)',
      'day-of-month (*) and day-of-week (*) cannot both be set: one of them must be ?, e.g. cron(0 3 * * ? *)',
    ],
    [
      'cron(0 3 1 * MON *)',
      'day-of-month (1) and day-of-week (MON) cannot both be set: one of them must be ?, e.g. cron(0 3 ? * MON *)',
    ],
    ['cron(0 3 ? * ? *)', 'day-of-month and day-of-week cannot both be ?: give one of them a value or *'],
    ['cron(? 3 1 * ? *)', 'minutes field: ? is only allowed in day-of-month and day-of-week'],
    ['cron(0 3 1,? * ? *)', 'day-of-month field: "1,?": ? must be the whole field'],
    ['cron(0/0 3 * * ? *)', 'minutes field: "0/0": the increment must be 1-59'],
    ['cron(0 3 ? * 1/2 *)', 'day-of-week field: "1/2": day-of-week takes no / increments'],
    [
      'cron(0 10-2 * * ? *)',
      'hours field: "10-2": a range runs from low to high (list wrapped values with ,)',
    ],
    [
      'cron(0 3 ? * 3#6 *)',
      'day-of-week field: "3#6": # takes a day and its occurrence in the month, 1-5 (3#2 = the second Tuesday)',
    ],
    ['cron(0 3 1,,2 * ? *)', 'day-of-month field: "1,,2" has an empty list item'],
    ['rate(1 hours)', 'rate(1 hours): the unit is singular for 1, rate(1 hour)'],
    ['rate(5 hour)', 'rate(5 hour): the unit is plural above 1, rate(5 hours)'],
    ['rate(0 minutes)', 'rate value "0" must be a positive whole number'],
    ['rate(1.5 hours)', 'rate value "1.5" must be a positive whole number'],
    ['rate(2 weeks)', 'rate unit "weeks" must be minute(s), hour(s) or day(s)'],
    ['rate(hourly)', 'rate takes a value and a unit: rate(1 hour), rate(15 minutes), rate(7 days)'],
    [
      'at(2030-01-31 03:00:00)',
      'at(2030-01-31 03:00:00) must be at(yyyy-mm-ddThh:mm:ss), e.g. at(2030-01-31T03:00:00)',
    ],
    [
      'at(2030-01-31T03:00:00Z)',
      "at(2030-01-31T03:00:00Z): no offset in the expression; it runs in the schedule's time zone (timezone, default UTC)",
    ],
    ['at(2029-02-29T03:00:00)', 'at(2029-02-29T03:00:00) is not a real date and time'],
    ['at(2030-01-31T24:00:00)', 'at(2030-01-31T24:00:00) is not a real date and time'],
    [
      'every day',
      '"every day" must be cron(...), rate(...) or at(...): e.g. cron(0 3 * * ? *) for 03:00 every day, rate(1 hour)',
    ],
  ])('rejects %s with the rule and the fix', (expression, problem) => {
    expect(scheduleProblem(expression)).toBe(problem);
  });

  it('accepts every cron built from in-range values with ? in exactly one day field', () => {
    const n = (min: number, max: number) => fc.integer({ min, max }).map(String);
    fc.assert(
      fc.property(
        n(0, 59),
        n(0, 23),
        n(1, 31),
        n(1, 12),
        n(1, 7),
        n(1970, 2199),
        fc.boolean(),
        (mi, h, dom, mo, dow, y, byWeekday) => {
          const expr = `cron(${mi} ${h} ${byWeekday ? '?' : dom} ${mo} ${byWeekday ? dow : '?'} ${y})`;
          expect(scheduleProblem(expr)).toBeUndefined();
        },
      ),
      { numRuns: 500 },
    );
  });

  it('suggests, for any 5-field Unix cron with * in a day field, a 6-field expression it accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 23 }), (mi, h) => {
        const problem = scheduleProblem(`cron(${mi} ${h} * * *)`);
        const suggested = /did you mean (cron\(.*\))\?$/.exec(problem ?? '')?.[1];
        expect(suggested).toBe(`cron(${mi} ${h} * * ? *)`);
        expect(scheduleProblem(suggested!)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
  });
});
