import { describe, expect, it } from 'vitest';
import { adaptersOf, readLoadedOnce } from './attribution.js';

// The IAM suite credits a function's role with the adapters its handler reaches, `import()`s included
// (attribution.ts). A module loaded on first use is declared once, `const loadX = once(() => import('./x.js'))`
// (shared/once.ts), and loaded where it is used, `await loadX()`: the suite must read each use as the import.

describe('IAM attribution of modules loaded once (shared/once.ts)', () => {
  it('reads each use of a loader as its import, with the names read there, and the declaration as nothing', () => {
    // Prepare
    const text = [
      "const loadX = /* @__PURE__ */ once(() => import('./x.js'));",
      "const loadY = once(() => import('../y.js'));",
      'export const a = async () => (await loadX()).make(1);',
      'export const b = async () => {',
      '  const { p, q } = await loadY();',
      '};',
      'export const c = deferred(loadX);',
    ].join('\n');

    // Act
    const read = readLoadedOnce(text);

    // Assert: a loader passed on uncalled reads as the bare import (every export of the module).
    expect(read.split('\n')).toEqual([
      '',
      '',
      "export const a = async () => (await import('./x.js')).make(1);",
      'export const b = async () => {',
      "  const { p, q } = await import('../y.js');",
      '};',
      "export const c = deferred(import('./x.js'));",
    ]);
  });

  it('leaves a module without loaders as it is (a loader built on once(async () => ...) is not one)', () => {
    // Prepare
    const text = 'const rds = once(async () => (await loadRds()).rdsScaling(region));\nconst n = load();';

    // Act / Assert
    expect(readLoadedOnce(text)).toBe(text);
  });

  it("credits each role with the adapters its handler reaches only through once-loaded modules, and no other role's", () => {
    // Act
    const scaling = adaptersOf('scaling');
    const backup = adaptersOf('backup');
    const retention = adaptersOf('retention');

    // Assert: scaling's RDS change, claim writes and alarms; backup's EBS, scheduler and consistency runner
    // (each only behind `await loadX()` in the handler, the scaling store or the consistency wiring).
    expect([...scaling]).toEqual(
      expect.arrayContaining([
        'shared/aws/rds-scaling.ts#rdsScaling',
        'shared/aws/scaling-store-changes.ts#scalingStoreChanges',
        'shared/aws/cloudwatch-alarms.ts#cloudWatchAlarms',
      ]),
    );
    expect([...backup]).toEqual(
      expect.arrayContaining([
        'shared/aws/ebs.ts#ebsBackup',
        'shared/aws/scheduler.ts#schedulerBackup',
        'shared/aws/ssm-commands.ts#ssmStepRunner',
      ]),
    );
    // Only what the destructuring reads: backup uses three of ssm-commands' exports, not OUTPUT_CHARS.
    expect(backup.has('shared/aws/ssm-commands.ts#OUTPUT_CHARS')).toBe(false);
    expect(retention.has('shared/aws/rds-scaling.ts#rdsScaling')).toBe(false);
    expect(retention.has('shared/aws/scheduler.ts#schedulerBackup')).toBe(false);
  });

  it('credits the importer of an adapter built on another factory of its module with that one too', () => {
    // Act
    const backup = adaptersOf('backup');
    const retention = adaptersOf('retention');

    // Assert: ebsBackup lists and deletes sets through ebsSetStore, which retention imports alone.
    expect(backup.has('shared/aws/ebs.ts#ebsSetStore')).toBe(true);
    expect(retention.has('shared/aws/ebs.ts#ebsSetStore')).toBe(true);
    expect(retention.has('shared/aws/ebs.ts#ebsBackup')).toBe(false);
  });

  it('does not lend a function the calls of a factory it only reads through (the drill lists Redis DR copies)', () => {
    // Act
    const drill = adaptersOf('drill');

    // Assert: s3RdbCopyLister keeps s3RdbStore whole for its listing; its deletes and tag reads are retention's.
    expect(drill.has('shared/aws/cache-dr.ts#s3RdbCopyLister')).toBe(true);
    expect(drill.has('shared/aws/cache-dr.ts#s3RdbStore')).toBe(false);
  });
});
