import { describe, expect, it } from 'vitest';
import { renderPath } from '../../../../shared/config/issues.js';
import { parseConfig, validateConfig } from '../../../../shared/config/schema.js';
import { parseRedisProfile } from '../../../../shared/drill/redis/profile.js';
import { ConfigError } from '../../../../shared/errors.js';

const stage = (caches: unknown) => ({ stage: 'acme', region: 'eu-west-1', drill: { caches } });
const problems = (input: unknown): string[] => {
  const r = validateConfig(input);
  return r.ok ? [] : r.problems.map((p) => `${renderPath(p.path)}: ${p.message}`);
};

describe('Redis drill config', () => {
  it('fills defaults: TLS, an AUTH token, database 0 against the last passed drill', () => {
    // Act
    const c = parseConfig(
      stage({ sessions: { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redis-x' } }),
      'test',
    );
    // Assert
    expect(c.drill.caches.sessions).toMatchObject({
      snapshot: 'latest',
      auth: 'token',
      tls: true,
      checks: {
        databases: [{ db: 0, tolerancePct: 10 }],
        keys: [],
        patterns: [],
        budgetSeconds: 300,
        scanCount: 1000,
      },
    });
  });

  it.each<[string, unknown, string[]]>([
    [
      'a missing secret and user group, a misspelt check key, a bad type and a point in time',
      {
        sessions: {
          auth: 'user',
          snapshot: { pointInTime: '2026-11-01T00:00:00Z' },
          checks: {
            patterns: [{ match: 'session:*', type: 'map', mustExpre: true }],
            keys: [{ key: 'has space', type: 'hash' }],
          },
        },
      },
      [
        'drill.caches.sessions.snapshot.pointInTime: ElastiCache restores snapshots only, not a point in time: use latest, { randomWithinDays: N } or { id: <snapshot name> }',
        'drill.caches.sessions.checks.keys[0].key: must be a glob of printable characters without spaces, such as session:*',
        'drill.caches.sessions.checks.patterns[0].type: must be one of "string", "hash", "list", "set", "zset", "stream"',
        'drill.caches.sessions.checks.patterns[0].mustExpre: unknown key, did you mean "mustExpire"?',
        'drill.caches.sessions.secretArn: auth: user reads the RBAC user and password from a secret: name it here, or set auth: none for a cache without AUTH',
        "drill.caches.sessions.userGroupId: auth: user needs the source's RBAC user group (it holds the user): a restore does not carry it over, so the drill attaches it to the copy",
      ],
    ],
    [
      'a database listed twice, a duplicate pattern, a sample larger than the walk, a db out of range',
      {
        'rate-limits': {
          auth: 'none',
          checks: {
            databases: [{ db: 1 }, { db: 1 }, { db: 16 }],
            patterns: [{ match: 'rl:*', sample: 500, maxScan: 100 }, { match: 'rl:*' }],
          },
        },
      },
      [
        'drill.caches.rate-limits.checks.databases[2].db: must be at most 15 (got 16)',
        'drill.caches.rate-limits.checks.databases: database 1 is listed twice',
        'drill.caches.rate-limits.checks.patterns: pattern check "rl:*" is listed twice: give one a distinct name',
        'drill.caches.rate-limits.checks.patterns[0].sample: sample 500 is more than maxScan 100: at most maxScan keys are seen',
      ],
    ],
    [
      'a drill from the DR copy that would log in with a secret the DR region’s drill VPC cannot read',
      {
        'rate-limits': {
          auth: 'token',
          from: 'dr',
          secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rl-AbCdEf',
        },
      },
      [
        "drill.caches.rate-limits.auth: from: dr is verified inside the DR region's drill VPC, which reads no secrets: use auth: iam (steward's IAM-authenticated user) or auth: none, not auth: token",
      ],
    ],
    [
      'a replication group id that ElastiCache would refuse',
      { '1cache': { auth: 'none' } },
      [
        'drill.caches.1cache: key "1cache": must be a replication group id: a letter, then letters, digits and hyphens, at most 40',
      ],
    ],
  ])('names each problem: %s', (_, caches, expected) => {
    // Act
    const found = problems(stage(caches));
    // Assert
    expect(found.sort()).toEqual([...expected].sort());
  });

  it('parseRedisProfile throws one ConfigError naming every bad field', () => {
    // Act
    const act = () => parseRedisProfile({ freshness: {}, commandTimeoutMs: 0 });
    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/freshness\.key/);
    expect(act).toThrow(/commandTimeoutMs/);
  });
});
