import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/**
 * The bad inputs of the config issue, each with the exact problem line every entry point (synth,
 * `steward validate`, any CLI command) prints: `file:line:column: key path: problem and fix`.
 */
export const BAD_CONFIGS: { name: string; text: string | undefined; problem: (file: string) => string }[] = [
  {
    name: 'an unknown key',
    text: 'region: eu-west-1\nretention:\n  policies:\n    standard:\n      keepAtleast: 5\n',
    problem: (f) =>
      `${f}:5:7: retention.policies.standard.keepAtleast: unknown key, did you mean "keepAtLeast"?`,
  },
  {
    name: 'an unknown top-level key',
    text: 'region: eu-west-1\ncosts:\n  enabled: true\n',
    problem: (f) => `${f}:2:1: costs: unknown key, did you mean "cost"?`,
  },
  {
    name: 'a wrong type',
    text: 'region: eu-west-1\nretention:\n  deletions:\n    floor: fifty\n',
    problem: (f) => `${f}:4:12: retention.deletions.floor: must be a number, got "fifty"`,
  },
  {
    name: 'a 5-field cron',
    text: 'region: eu-west-1\nbackup:\n  policies:\n    daily:\n      schedule: cron(0 4 * * *)\n',
    problem: (f) =>
      `${f}:5:17: backup.policies.daily.schedule: cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 5: EventBridge adds a year field and needs ? in one day field, did you mean cron(0 4 * * ? *)?`,
  },
  {
    name: 'a cron value out of range',
    text: 'region: eu-west-1\nretention:\n  schedule: cron(99 4 * * ? *)\n',
    problem: (f) => `${f}:3:13: retention.schedule: minutes field: 99 is outside 0-59`,
  },
  {
    name: 'a dangling reference',
    text: 'region: eu-west-1\nbackup:\n  policies:\n    daily:\n      retention: constructor\n',
    problem: (f) =>
      `${f}:5:18: backup.policies.daily.retention: names retention policy "constructor", which is not in retention.policies (standard): use one of those, or add "constructor" under retention.policies`,
  },
  {
    name: 'a scale-in floor off the ladder a rule without one climbs',
    text: [
      'region: eu-west-1',
      'scaling:',
      '  enabled: true',
      '  rules:',
      '    orders-db-cpu:',
      '      alarm: { name: orders-db-cpu-high }',
      '      resource: orders-db',
      '      action: { type: rds.scaleUp, max: db.r6g.2xlarge }',
      '      scaleIn:',
      '        enabled: true',
      '        min: db.r5.large',
      '',
    ].join('\n'),
    problem: (f) =>
      `${f}:11:14: scaling.rules.orders-db-cpu.scaleIn.min: db.r5.large is not on the ladder the action climbs without one (db.r6g.micro, db.r6g.small, db.r6g.medium, db.r6g.large, db.r6g.xlarge, db.r6g.2xlarge: the family's standard sizes up to max): the floor must be one of its classes, or set action.ladder`,
  },
  {
    name: 'an empty file',
    text: '',
    problem: (f) =>
      `${f}:1:1: the file is empty: start from an example (cp examples/steward.prod.yaml ${f}) or run steward init`,
  },
  {
    name: 'a YAML syntax error',
    text: 'region: eu-west-1\nbackup:\n  policies: [\n',
    problem: (f) =>
      `${f}:4:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`,
  },
  {
    name: 'a file that does not exist',
    text: undefined,
    problem: (f) =>
      `${f}: no such file: copy an example (cp examples/steward.prod.yaml ${f}) or run steward init`,
  },
  {
    name: 'duplicate keys',
    text: 'region: eu-west-1\nretention:\n  deletions: { floor: 5 }\nretention:\n  includeDrRegion: false\n',
    problem: (f) =>
      `${f}:4:1: duplicate key "retention" (first at line 2): YAML would silently keep only the last one, merge them into one`,
  },
];

/** A temp dir for the enclosing test file, removed after each test. */
export const useTempDir = (): (() => string) => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return () => (dir ??= mkdtempSync(join(tmpdir(), 'config-test-')));
};

/** Write `text` as `<dir>/steward.acme.yaml` (or leave it absent) and return its path. */
export const writeStageFile = (dir: string, text: string | undefined, name = 'steward.acme.yaml'): string => {
  const file = join(dir, name);
  if (text !== undefined) writeFileSync(file, text);
  return file;
};
