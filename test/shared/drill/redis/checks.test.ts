import { describe, expect, it } from 'vitest';
import {
  evaluateTtl,
  freshnessTime,
  parseKeyspace,
  patternKeys,
} from '../../../../shared/drill/redis/checks.js';

describe('Redis check rules', () => {
  it.each([
    ['1764547200', 'string', '2025-12-01T00:00:00.000Z'],
    ['1764547200.5', 'string', '2025-12-01T00:00:00.500Z'],
    ['1764547200123', 'string', '2025-12-01T00:00:00.123Z'],
    ['2025-12-01T01:00:00+01:00', 'string', '2025-12-01T00:00:00.000Z'],
    ['1764547200123-7', 'stream', '2025-12-01T00:00:00.123Z'],
  ] as const)('reads %s (%s) as %s', (value, from, iso) => {
    // Act / Assert
    expect(freshnessTime(value, from)?.toISOString()).toBe(iso);
  });

  it.each([
    ['yesterday', 'string'],
    ['', 'string'],
    ['12-ab', 'stream'],
  ] as const)('does not guess a time from %j (%s)', (value, from) => {
    expect(freshnessTime(value, from)).toBeUndefined();
  });

  it('counts matching keys exactly when the walk finished, else by the share walked', () => {
    expect(patternKeys({ matched: 10, complete: true, walked: 50, dbSize: 1000, types: [] })).toEqual({
      keys: 10,
      method: 'exact',
    });
    expect(patternKeys({ matched: 10, complete: false, walked: 100, dbSize: 1000, types: [] })).toEqual({
      keys: 100,
      method: 'sample',
    });
  });

  it('reads INFO keyspace', () => {
    expect(
      parseKeyspace('# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=100\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n'),
    ).toEqual(
      new Map([
        [0, { keys: 12, expires: 3 }],
        [3, { keys: 1, expires: 0 }],
      ]),
    );
  });
});

describe('TTL sanity', () => {
  it.each([
    [[1000, 2000], true, 'all 2 sampled keys expire (in 1 s to 2 s)'],
    [[1000, -1, -2], false, '1 of 2 sampled keys have no TTL: TTL lost'],
    [[], true, 'no matching key to check'],
    [[-2], true, 'no matching key to check (1 expired while checked)'],
  ])('PTTLs %j: passed %s', (pttls, passed, detail) => {
    expect(evaluateTtl(pttls)).toMatchObject({ passed, detail });
  });
});
