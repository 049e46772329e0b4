import { describe, expect, expectTypeOf, it } from 'vitest';
import { type Consistency, consistencyFor } from '../../../shared/backup/consistency.js';
import { renderPath } from '../../../shared/config/issues.js';
import type { ConsistencySettings } from '../../../shared/config/consistency.js';
import { parseConfig, validateConfig } from '../../../shared/config/schema.js';

const withConsistency = (consistency: unknown) => ({
  stage: 'acme',
  region: 'eu-west-1',
  backup: { policies: { daily: { consistency } } },
});

const problems = (consistency: unknown): string[] => {
  const r = validateConfig(withConsistency(consistency));
  return r.ok ? [] : r.problems.map((p) => `${renderPath(p.path)}: ${p.message}`);
};

const FREEZE = { pre: 'fsfreeze -f /data', post: 'fsfreeze -u /data' };

describe('backup.policies.<name>.consistency', () => {
  it('defaults: 15 s per command, a 60 s freeze bound, crash-consistent on a failed pre command', () => {
    // Act
    const c = parseConfig(withConsistency(FREEZE), 'test').backup.policies.daily!.consistency;
    // Assert
    expect(c).toEqual({
      ...FREEZE,
      timeoutSeconds: 15,
      maxFreezeSeconds: 60,
      onPreFailure: 'crash-consistent',
      instances: {},
    });
  });

  it.each([
    [{ pre: 'fsfreeze -f /data' }, 'backup.policies.daily.consistency.post: pre and post go together'],
    [{ post: 'fsfreeze -u /data' }, 'backup.policies.daily.consistency.pre: pre and post go together'],
    [{ ...FREEZE, pre: '   ' }, 'backup.policies.daily.consistency.pre: must not be blank'],
    [
      { ...FREEZE, pre: 'echo {{ssm:/prod/password}}' },
      "backup.policies.daily.consistency.pre: must not contain '{{'",
    ],
    [
      { ...FREEZE, timeoutSeconds: 30, maxFreezeSeconds: 60 },
      'backup.policies.daily.consistency.maxFreezeSeconds: must be at least 70',
    ],
    [{ ...FREEZE, onPreFailure: 'ignore' }, 'backup.policies.daily.consistency.onPreFailure'],
    [
      { dump: { command: 'mongodump --archive', bucket: 'Bad_Bucket' } },
      'backup.policies.daily.consistency.dump.bucket: must be an S3 bucket name',
    ],
    [
      { dump: { command: 'mongodump --archive', bucket: 'dumps', prefix: '/abs' } },
      'backup.policies.daily.consistency.dump.prefix: must be empty or path segments',
    ],
    [{ instances: { 'web-1': false } }, 'must be an EC2 instance id'],
    [
      { instances: { 'i-0abc1234def567890': { pre: 'x' } } },
      'backup.policies.daily.consistency.instances.i-0abc1234def567890.post: pre and post go together',
    ],
    [{ ...FREEZE, freeze: true }, 'backup.policies.daily.consistency.freeze: unknown key'],
  ])('refuses %j with an error naming the field', (input, expected) => {
    expect(problems(input).join('\n')).toContain(expected);
  });

  it('accepts a dump alone (no freeze) with its defaults', () => {
    // Act
    const c = parseConfig(
      withConsistency({ dump: { command: 'mongodump --archive', bucket: 'team-dumps' } }),
      'test',
    ).backup.policies.daily!.consistency;
    // Assert
    expect(c?.dump).toEqual({
      command: 'mongodump --archive',
      bucket: 'team-dumps',
      prefix: 'steward/',
      timeoutSeconds: 300,
    });
  });
});

describe('consistencyFor', () => {
  const c = parseConfig(
    withConsistency({
      ...FREEZE,
      instances: {
        'i-0aaaaaaaaaaaaaaaa': false,
        'i-0bbbbbbbbbbbbbbbb': {
          pre: "mongosh --eval 'db.fsyncLock()'",
          post: "mongosh --eval 'db.fsyncUnlock()'",
        },
      },
    }),
    'test',
  ).backup.policies.daily!.consistency;

  it("gives an instance the policy's settings, its own, or none", () => {
    expect(consistencyFor(c, 'i-0cccccccccccccccc')).toMatchObject(FREEZE);
    expect(consistencyFor(c, 'i-0cccccccccccccccc')).not.toHaveProperty('instances');
    expect(consistencyFor(c, 'i-0bbbbbbbbbbbbbbbb')?.pre).toBe("mongosh --eval 'db.fsyncLock()'");
    expect(consistencyFor(c, 'i-0aaaaaaaaaaaaaaaa')).toBeUndefined();
    expect(consistencyFor(undefined, 'i-0cccccccccccccccc')).toBeUndefined();
  });
});

describe('the engine takes what the config yields', () => {
  it('ConsistencySettings is a Consistency', () => {
    expectTypeOf<ConsistencySettings>().toExtend<Consistency>();
  });
});
