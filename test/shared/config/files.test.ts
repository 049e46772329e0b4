import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  configLocation,
  loadStage,
  loadStageFiles,
  readStageFile,
  renderProblem,
} from '../../../shared/config/files.js';
import { ConfigError } from '../../../shared/errors.js';
import { useTempDir, writeStageFile } from '../../support/bad-configs.js';
import { EXAMPLES_DIR, loadExample } from '../../support/examples.js';

const problemsOf = (r: ReturnType<typeof readStageFile>) => (r.ok ? [] : r.problems.map(renderProblem));

describe('stage config files', () => {
  const tempDir = useTempDir();

  it('takes the stage from the file name: a copied example works as stage acme unchanged', () => {
    // Prepare
    const file = join(tempDir(), 'steward.acme.yaml');
    copyFileSync(join(EXAMPLES_DIR, 'steward.prod.yaml'), file);
    // Act
    const r = readStageFile(file);
    // Assert
    expect(r.ok && r.stage).toBe('acme');
    expect(r.ok && r.config).toEqual({ ...loadExample('prod'), stage: 'acme' });
  });

  it('accepts JSON, with a $schema key for editors', () => {
    // Prepare
    const file = writeStageFile(
      tempDir(),
      JSON.stringify({ $schema: './steward-config.schema.json', region: 'eu-west-1', dryRun: true }),
      'steward.acme.json',
    );
    // Act
    const r = readStageFile(file);
    // Assert
    expect(r.ok && r.config).toMatchObject({ stage: 'acme', region: 'eu-west-1', dryRun: true });
  });

  it('rejects a stage key that disagrees with the file name (a copied example keeps its old stage)', () => {
    // Prepare
    const file = writeStageFile(tempDir(), 'stage: prod\nregion: eu-west-1\n');
    // Act / Assert
    expect(problemsOf(readStageFile(file))).toEqual([
      `${file}:1:8: stage: is "prod" but the file is named for stage "acme": rename the file to steward.prod.yaml or remove stage (the file name sets it)`,
    ]);
  });

  it('needs a stage key in a file not named steward.<stage>.yaml', () => {
    // Prepare
    const dir = tempDir();
    const unnamed = writeStageFile(dir, 'region: eu-west-1\n', 'ops.yaml');
    const named = writeStageFile(dir, 'stage: acme\nregion: eu-west-1\n', 'ops2.yaml');
    // Act / Assert
    expect(problemsOf(readStageFile(unnamed))).toEqual([
      `${unnamed}:1:1: stage: is required when the file is not named steward.<stage>.yaml (e.g. stage: prod)`,
    ]);
    expect(readStageFile(named).ok).toBe(true);
  });

  it('rejects a file name that is not a valid stage name', () => {
    // Prepare
    const file = writeStageFile(tempDir(), 'region: eu-west-1\n', 'steward.Prod_1.yaml');
    // Act / Assert
    expect(problemsOf(readStageFile(file))).toEqual([
      `${file}: "Prod_1" (from the file name) is not a valid stage name: 1-16 lowercase letters, digits and single hyphens, starting with a letter`,
    ]);
  });

  it('rejects a document that is a list', () => {
    // Prepare
    const file = writeStageFile(tempDir(), '- region: eu-west-1\n');
    // Act / Assert
    expect(problemsOf(readStageFile(file))).toEqual([
      `${file}:1:1: must be a mapping of settings (region: ..., backup: ...), not a single value or a list`,
    ]);
  });

  it('lists the problems of a file in file order, each with line and column', () => {
    // Prepare
    const file = writeStageFile(
      tempDir(),
      'costs: 1\nregion: eu-west-9x\nbackup:\n  copySchedule: rate(1 hours)\n',
    );
    // Act / Assert
    expect(problemsOf(readStageFile(file))).toEqual([
      `${file}:1:1: costs: unknown key, did you mean "cost"?`,
      `${file}:2:9: region: must be an AWS region such as eu-west-1`,
      `${file}:4:17: backup.copySchedule: rate(1 hours): the unit is singular for 1, rate(1 hour)`,
    ]);
  });

  it('names a missing required key at its parent', () => {
    // Prepare
    const file = writeStageFile(tempDir(), 'dryRun: true\n');
    // Act / Assert
    expect(problemsOf(readStageFile(file))).toEqual([`${file}:1:1: region: is required (a string)`]);
  });

  it('reads every stage of a directory, and only one with a stage name', () => {
    // Act
    const all = loadStageFiles(EXAMPLES_DIR);
    const one = loadStageFiles(EXAMPLES_DIR, 'staging');
    // Assert
    expect(all.stages.map((s) => s.stage)).toEqual(['dev', 'prod', 'staging']);
    expect(one.stages.map((s) => s.stage)).toEqual(['staging']);
  });

  it('names the stages a directory has when the requested one is missing', () => {
    // Act
    const { problems } = loadStageFiles(EXAMPLES_DIR, 'stagin');
    // Assert
    expect(problems.map(renderProblem)).toEqual([
      `examples: no steward.stagin.yaml here (stages: dev, prod, staging): did you mean "staging"?`,
    ]);
  });

  it('rejects two files for one stage', () => {
    // Prepare
    const dir = tempDir();
    writeStageFile(dir, 'region: eu-west-1\n', 'steward.acme.yaml');
    writeStageFile(dir, '{"region": "eu-west-1"}', 'steward.acme.json');
    // Act
    const { problems, stages } = loadStageFiles(dir);
    // Assert
    expect(stages).toEqual([]);
    expect(problems.map(renderProblem)).toEqual([
      `${join(dir, 'steward.acme.yaml')}: stage "acme" also has ${join(dir, 'steward.acme.json')}: keep one file per stage`,
    ]);
  });

  it('says how to start when a directory holds no stage file', () => {
    // Prepare
    const dir = join(tempDir(), 'configs');
    mkdirSync(dir);
    // Act / Assert
    expect(loadStageFiles(dir).problems.map(renderProblem)).toEqual([
      `${dir}: no steward.<stage>.yaml here: copy an example (cp examples/steward.prod.yaml ${dir}/steward.<stage>.yaml) or run steward init`,
    ]);
  });

  it('says where it looked by default, and how to point elsewhere', () => {
    // Act
    const { problems } = loadStageFiles(configLocation(undefined, {}), undefined, tempDir());
    // Assert
    expect(problems.map(renderProblem)).toEqual([
      'config: steward looks in ./config/ unless told otherwise: create it (mkdir config && cp examples/steward.prod.yaml config/steward.<stage>.yaml), run steward init, or point at your configs with --config <dir> (CDK: -c config=<dir>)',
    ]);
  });

  it('says a missing location came from $STEWARD_CONFIG when that is where it came from', () => {
    // Prepare
    vi.stubEnv('STEWARD_CONFIG', 'configs/prod.yml');
    try {
      // Act
      const { problems } = loadStageFiles(configLocation(undefined), undefined, tempDir());
      // Assert
      expect(problems.map(renderProblem)).toEqual([
        expect.stringMatching(/^configs\/prod\.yml: no such file: .* \(the path \$STEWARD_CONFIG names\)$/),
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('takes the location from the flag, else STEWARD_CONFIG, else ./config', () => {
    expect(configLocation('a', { STEWARD_CONFIG: 'b' })).toBe('a');
    expect(configLocation(undefined, { STEWARD_CONFIG: 'b' })).toBe('b');
    expect(configLocation(undefined, {})).toBe('config');
  });

  it('asks for --stage when a command needs one stage of several', () => {
    // Act
    const act = () => loadStage(EXAMPLES_DIR);
    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow('examples: holds several stages (dev, prod, staging): pick one with --stage');
  });

  it('reports valid but unmanaged targets as warnings with their position', () => {
    // Prepare
    const file = writeStageFile(
      tempDir(),
      'region: eu-west-1\ntargets:\n  - {}\n  - regions: [eu-central-1]\n',
    );
    // Act
    const r = readStageFile(file);
    // Assert
    expect(r.ok && r.warnings.map(renderProblem)).toEqual([
      `${file}:4:5: targets[1]: this account eu-central-1: validated, but not managed: without a fleet key steward acts only on its own account and region, eu-west-1 (README: Fleet)`,
    ]);
  });
});
