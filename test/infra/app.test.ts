import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BAD_CONFIGS, useTempDir, writeStageFile } from '../support/bad-configs.js';
import { EXAMPLES_DIR } from '../support/examples.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `npx cdk synth` as a user runs it: offline, no credentials, the config given with -c config=. */
const cdkSynth = (dir: string, ...context: string[]) => {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'].includes(k),
    ),
  );
  return spawnSync(
    join(ROOT, 'node_modules/.bin/cdk'),
    ['synth', '--quiet', '-o', join(dir, 'cdk.out'), ...context.flatMap((c) => ['-c', c])],
    { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 },
  );
};

describe('the CDK app (npx cdk synth -c config=...)', () => {
  const tempDir = useTempDir();

  it('synthesizes a stage named acme from a copied example, touching nothing in the source tree', () => {
    // Prepare: a fresh clone's user copies an example outside steward's source and changes it.
    const dir = tempDir();
    copyFileSync(join(EXAMPLES_DIR, 'steward.staging.yaml'), join(dir, 'steward.acme.yaml'));
    // Act
    const r = cdkSynth(dir, `config=${dir}`);
    // Assert
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const template = JSON.parse(readFileSync(join(dir, 'cdk.out', 'Steward-acme.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { FunctionName?: string } }>;
    };
    const functions = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => r.Properties.FunctionName)
      .sort();
    expect(functions).toEqual(['steward-acme-backup', 'steward-acme-report', 'steward-acme-retention']);
    // The real `cdk synth` bundles three functions: 25 s on a quiet machine, past the default 60 s on a loaded
    // one. It may take as long as the synth itself is given.
  }, 300_000);

  it('fails with the app exiting 2 and the exact problem when the config is bad, synthesizing nothing', () => {
    // Prepare
    const dir = tempDir();
    const bad = BAD_CONFIGS.find((c) => c.name === 'an unknown key')!;
    const file = writeStageFile(dir, bad.text);
    // Act
    const r = cdkSynth(dir, `config=${dir}`, 'stage=acme');
    // Assert (the cdk CLI itself exits 1 whenever its app fails, and says with which code)
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`  ${bad.problem(file)}`);
    expect(r.stderr).toContain('Subprocess exited with error 2');
  });
});
