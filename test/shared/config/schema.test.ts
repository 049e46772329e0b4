import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../shared/errors.js';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { loadStageConfig, stageNames } from '../../../shared/config/stages.js';
import { BaseEnv, loadEnv } from '../../../shared/config/env.js';

const minimal = (): StewardConfigInput => ({ stage: 'dev', region: 'eu-west-1' });

const errorOf = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('stage config', () => {
  it.each(stageNames)('the shipped %s config is valid', (stage) => {
    // Act
    const c = loadStageConfig(stage);
    // Assert
    expect(c.stage).toBe(stage);
  });

  it('fills the runbook defaults: daily 03:00 UTC backups kept 30 days, DR in us-west-2, 5 copies in flight', () => {
    // Act
    const c = parseConfig(minimal(), 'test');
    // Assert
    expect(c.backup.policies.daily).toMatchObject({
      schedule: 'cron(0 3 * * ? *)',
      retention: 'standard',
      copyToDr: false,
    });
    expect(c.retention.policies.standard!.daily).toBe(30);
    expect(c.backup.preChangeRetainDays).toBe(90);
    expect(c.dr.region).toBe('us-west-2');
    expect(c.backup.maxCopiesInFlight).toBe(5);
    expect(c.drill).toMatchObject({ rtoSeconds: 3600, rpoSeconds: 300 });
    expect(c.cost.thresholds.map((t) => t.amountUsd)).toEqual([2000, 2500, 3000]);
  });

  it.each<[string, (c: StewardConfigInput) => void, string]>([
    [
      'a bad schedule',
      (c) => (c.backup = { policies: { daily: { schedule: 'every day' } } }),
      'backup.policies.daily.schedule',
    ],
    [
      'a missing retention policy',
      (c) => (c.backup = { policies: { daily: { retention: 'gone' } } }),
      'backup.policies.daily.retention',
    ],
    ['a bad policy name', (c) => (c.backup = { policies: { Daily: {} } }), 'backup.policies.Daily'],
    ['a bad region', (c) => (c.region = 'europe'), 'region'],
    [
      'more than 5 copies in flight',
      (c) => (c.backup = { maxCopiesInFlight: 6 }),
      'backup.maxCopiesInFlight',
    ],
    [
      'DR copies without a KMS key',
      (c) => (c.backup = { policies: { daily: { copyToDr: true } } }),
      'dr.kmsKeyArn',
    ],
    [
      'a KMS key outside the DR region',
      (c) => {
        c.backup = { policies: { daily: { copyToDr: true } } };
        c.dr = { region: 'us-west-2', kmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc' };
      },
      'dr.kmsKeyArn',
    ],
    ['an unknown stage', (c) => ((c as { stage: string }).stage = 'qa'), 'stage'],
    [
      'a bad email',
      (c) => (c.notifications = { critical: { emails: ['pager'] } }),
      'notifications.critical.emails.0',
    ],
  ])('rejects %s, naming the field path', (_, mutate, path) => {
    // Prepare
    const input = minimal();
    mutate(input);
    // Act
    const e = errorOf(() => parseConfig(input, 'test'));
    // Assert
    expect(e.issues.some((i) => i.startsWith(`${path}:`))).toBe(true);
    expect(e.message).toContain(path);
  });

  it('rejects an unknown stage name with the known ones', () => {
    // Act
    const e = errorOf(() => loadStageConfig('qa'));
    // Assert
    expect(e.message).toMatch(/Unknown stage "qa".*dev, staging, prod/);
  });
});

describe('function environment', () => {
  const good = {
    STAGE: 'prod',
    CRITICAL_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:critical',
    WARNING_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:warning',
    INFO_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:info',
  };

  it('parses DRY_RUN as a boolean defaulting to false', () => {
    // Act / Assert
    expect(loadEnv(BaseEnv, good).DRY_RUN).toBe(false);
    expect(loadEnv(BaseEnv, { ...good, DRY_RUN: 'true' }).DRY_RUN).toBe(true);
  });

  it('names every bad variable in one error', () => {
    // Prepare
    const { WARNING_TOPIC_ARN: _, ...missing } = good;
    // Act
    const e = errorOf(() => loadEnv(BaseEnv, { ...missing, INFO_TOPIC_ARN: 'nope' }));
    // Assert
    expect(e.issues.map((i) => i.split(':')[0])).toEqual(['WARNING_TOPIC_ARN', 'INFO_TOPIC_ARN']);
  });
});
