import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Flags } from '../../cli/flags.js';
import { EMBEDDED_CONFIG } from '../../shared/config/embedded.js';
import { loadStage } from '../../shared/config/files.js';
import type { StewardConfig, StewardConfigInput } from '../../shared/config/schema.js';

/** The documented example configs the repository ships (examples/steward.<stage>.yaml). */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/', import.meta.url));
export const exampleStages = ['dev', 'staging', 'prod'] as const;
export type ExampleStage = (typeof exampleStages)[number];

/** An example stage, read and validated exactly as synth and the CLI read a user's file. */
export const loadExample = (stage: ExampleStage): StewardConfig => loadStage(EXAMPLES_DIR, stage).config;

/** An example's document as written (defaults not applied), with its stage: a config input object. */
export const exampleInput = (stage: ExampleStage): StewardConfigInput => {
  const { $schema: _, ...doc } = parse(
    readFileSync(`${EXAMPLES_DIR}steward.${stage}.yaml`, 'utf8'),
  ) as Record<string, unknown>;
  return { ...doc, stage } as StewardConfigInput;
};

/**
 * Make `config` the one a handler's cold start finds, as the CDK app embeds it in a bundle (outside a
 * bundle the identifier resolves on globalThis). Returns the undo.
 */
export const embedConfig = (config: StewardConfig): (() => void) => {
  const g = globalThis as Record<string, unknown>;
  g[EMBEDDED_CONFIG] = JSON.stringify(config);
  return () => delete g[EMBEDDED_CONFIG];
};

/** The command line `--config <examples> --stage <stage>`: a CLI command run against an example stage. */
export const onExample = (stage: ExampleStage): string[] => ['--config', EXAMPLES_DIR, '--stage', stage];

/** CLI flags as `main` parses them (every boolean off), against the prod example unless overridden. */
export const cliFlags = (over: Partial<Flags> = {}): Flags => ({
  config: EXAMPLES_DIR,
  stage: 'prod',
  all: false,
  force: false,
  write: false,
  wait: false,
  'dry-run': false,
  json: false,
  help: false,
  ...over,
});
