import { RDSClient } from '@aws-sdk/client-rds';
import { App } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { addStages } from '../../infra/stages.js';
import { BAD_CONFIGS, useTempDir, writeStageFile } from '../support/bad-configs.js';

// Every bad input of the config issue, through every entry point: exit 2, the file, line, column, key
// path and fix, and nothing synthesized or called.
describe.each(BAD_CONFIGS)('a config with $name', ({ text, problem }) => {
  const tempDir = useTempDir();
  const rds = mockClient(RDSClient);
  let errors: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    rds.reset();
    errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => errors.mockRestore());
  const stderr = () => errors.mock.calls.flat().join('\n');

  it('fails steward validate with exit 2 and the exact problem', async () => {
    // Prepare
    const file = writeStageFile(tempDir(), text);
    const out: string[] = [];
    // Act
    const code = await main(['validate', '--config', file], (s) => out.push(s));
    // Assert
    expect(code).toBe(2);
    expect(out.flatMap((o) => o.split('\n')).map((l) => l.replace(/^( {2}|✗ )/, ''))).toContain(
      problem(file),
    );
  });

  it('fails any CLI command that reads it with exit 2, before any AWS call', async () => {
    // Prepare
    const file = writeStageFile(tempDir(), text);
    // Act
    const code = await main(
      ['invoke', 'backup', '--event', 'events/backup/scheduled.json', '--config', file, '--dry-run'],
      () => {},
    );
    // Assert
    expect(code).toBe(2);
    expect(stderr().split('\n')).toContain(`  ${problem(file)}`);
    expect(rds.calls()).toEqual([]);
  });

  it('fails synth with exit 2 and the exact problem, synthesizing no stack', () => {
    // Prepare
    const file = writeStageFile(tempDir(), text);
    const app = new App({ context: { config: file } });
    const log: string[] = [];
    // Act
    const code = addStages(app, (s) => log.push(s));
    // Assert
    expect(code).toBe(2);
    expect(log.join('\n').split('\n')).toContain(`  ${problem(file)}`);
    expect(app.node.children).toEqual([]);
  });
});
