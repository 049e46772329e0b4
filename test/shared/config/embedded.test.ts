import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { lambdaEsbuildOptions } from '../../../infra/bundling.js';
import { EMBEDDED_CONFIG, embedDefine, embeddedConfig } from '../../../shared/config/embedded.js';
import { wireBase } from '../../../shared/runtime.js';
import { ConfigError } from '../../../shared/errors.js';
import { embedConfig, loadExample } from '../../support/examples.js';

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:steward-prod-info';
const env = { CRITICAL_TOPIC_ARN: TOPIC, WARNING_TOPIC_ARN: TOPIC, INFO_TOPIC_ARN: TOPIC };

describe('the config embedded in a Lambda bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'config-embed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('survives the real bundling: the bundle reads back exactly the resolved config', async () => {
    // Prepare: the shipped esbuild settings and the define the CDK functions get.
    const config = loadExample('prod');
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `export { embeddedConfig } from ${JSON.stringify(new URL('../../../shared/config/embedded.ts', import.meta.url).pathname)};`,
    );
    const outfile = join(dir, 'bundle.mjs');
    await build({
      ...lambdaEsbuildOptions,
      entryPoints: [entry],
      outfile,
      define: { [EMBEDDED_CONFIG]: embedDefine(config) },
      logLevel: 'silent',
    });
    // Act
    const bundled = (await import(pathToFileURL(outfile).href)) as { embeddedConfig: typeof embeddedConfig };
    // Assert
    expect(bundled.embeddedConfig()).toEqual(config);
  });

  it('is what wireBase builds the function from at cold start', () => {
    // Prepare
    const undo = embedConfig(loadExample('dev'));
    try {
      // Act
      const base = wireBase(env);
      // Assert
      expect(base.config).toEqual(loadExample('dev'));
      expect(base.dryRun).toBe(true);
    } finally {
      undo();
    }
  });

  it('fails cold start with a ConfigError when nothing is embedded', () => {
    expect(() => wireBase(env)).toThrow(
      "No steward config in this function: __STEWARD_CONFIG__: not set; deploy the function with the steward CDK app, which embeds the stage's validated config",
    );
  });

  it.each([
    ['an array', '[]'],
    ['null', 'null'],
    ['an object without a stage', '{"region":"eu-west-1"}'],
  ])('fails cold start with a ConfigError when the embedded document is %s', (_, doc) => {
    // Prepare
    const g = globalThis as Record<string, unknown>;
    g[EMBEDDED_CONFIG] = doc;
    try {
      // Act
      const act = () => embeddedConfig();
      // Assert
      expect(act).toThrow(ConfigError);
      expect(act).toThrow(
        'Embedded steward config is not a stage config: __STEWARD_CONFIG__: expected the resolved config object of one stage',
      );
    } finally {
      delete g[EMBEDDED_CONFIG];
    }
  });

  it('reads the document as data, without the config schema: synth validated it (test/infra/stack.test.ts)', () => {
    // Prepare: a document the schema would refuse; only synth may refuse it, and it did not write this one.
    const g = globalThis as Record<string, unknown>;
    const doc = { ...loadExample('dev'), retention: { deletions: { safetyCap: 0 } } };
    g[EMBEDDED_CONFIG] = JSON.stringify(doc);
    try {
      // Act
      const config = embeddedConfig();
      // Assert
      expect(config).toEqual(doc);
    } finally {
      delete g[EMBEDDED_CONFIG];
    }
  });
});
