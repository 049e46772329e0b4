import { describe, expect, it } from 'vitest';
import { EBS_SANDBOX_INSTANCE, sandboxEbs } from '../../cli/sandbox-ebs.js';
import { processesUnder } from '../support/own-tmp.js';
import { inProcessSandbox } from '../support/sandbox.js';
import { DRILL_START, drillEnd } from '../support/local-drill.js';

// `npm start -- --engine ebs` end to end: the drill state machine CDK synthesizes for a stage with an EBS
// drill and a verifier, run locally over ext4 image files (mkfs.ext4 -d; snapshot and restore are copies; the
// check is fsck -n and debugfs through steward's Command document script). The intact drill passes, and each
// --break kind fails it, naming what is wrong. Every temp dir is gone afterwards.
describe('npm start -- --engine ebs', () => {
  // In this process, so the definition is synthesized once for every run below; TMPDIR is this block's own.
  const { tmp, run, left } = inProcessSandbox('steward-ebs-sandbox-test', sandboxEbs, { engine: 'ebs' });

  it('runs the synthesized drill definition to a pass: every volume restored, the check passed, nothing left', async () => {
    // Act
    const { code, json } = await run();
    // Assert
    expect(code).toBe(0);
    expect(json.status).toBe('SUCCEEDED');
    expect(json.path).toEqual([
      ...DRILL_START,
      'Volumes?',
      'WaitForVolumes',
      'CheckVolumes',
      'VolumesRestored?',
      'VerifyVolumes',
      ...drillEnd(true),
    ]);
    expect(json.report).toMatchObject({
      kind: 'ebs',
      database: EBS_SANDBOX_INSTANCE,
      passed: true,
      outcome: 'passed',
      cleanup: { status: 'deleted' },
    });
    const ebs = (json.report as unknown as { ebs: { verifier: { check: { output: string } } } }).ebs;
    // Both file systems clean, and the newest write read back from the restored data volume.
    expect(ebs.verifier.check.output).toMatch(/data: clean[\s\S]*logs: clean[\s\S]*\n\d{4}-\d{2}-\d{2}T/);
    expect(json.reportFile).toMatch(
      new RegExp(`history/reports/drills/${EBS_SANDBOX_INSTANCE}/\\d{4}/\\d{2}/sandbox-\\d{14}\\.json$`),
    );
    expect(left()).toEqual([]);
    expect(processesUnder(tmp())).toEqual([]);
    // The first run synthesizes the stage with CDK (about 5 s of CPU, longer on a shared machine).
  }, 180_000);

  it('refuses an unknown --break kind before starting anything', async () => {
    await expect(run('rows-lost')).rejects.toThrow(
      '--break with --engine ebs takes one of corrupt, missing-file, stale, got "rows-lost"',
    );
    expect(left()).toEqual([]);
  });

  it.each([
    ['corrupt', /^verifier: check failed: exit 8: .*Bad magic number in super-block/s],
    ['missing-file', /^verifier: check failed: exit 1/],
    ['stale', /^RPO 1728\d\d s exceeds the 90000 s target$/],
  ])('--break %s fails the drill, naming why, and cleans up', async (kind, reason) => {
    // Act
    const { code, json } = await run(kind);
    // Assert
    expect(code).toBe(1);
    expect(json.status).toBe('FAILED');
    expect(json.path.slice(-5)).toEqual(['VerifyVolumes', ...drillEnd(false)]);
    expect(json.report.reasons?.[0]).toMatch(reason);
    expect(json.report.summary).toMatch(new RegExp(`^EBS drill FAILED for ${EBS_SANDBOX_INSTANCE}`));
    expect(json.report.cleanup?.status).toBe('deleted');
    expect(left()).toEqual([]);
  });
});
