// Synthesizing the drill state machine loads the whole CDK app: kept apart from the local executor
// (local-drill.ts) so that running a definition does not load aws-cdk-lib.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { StewardConfig } from '../shared/config/schema.js';
import { ConfigError } from '../shared/errors.js';
import { type AslDefinition, type CfnTemplate, definitionFromTemplate } from './local-drill.js';
import { stackId, StewardStack } from './stack.js';

// The feature flags `cdk synth` runs with: they can change what constructs render.
const cdkContext = (): Record<string, unknown> =>
  (
    JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
      context: Record<string, unknown>;
    }
  ).context;

/**
 * The drill state machine's ASL exactly as `cdk synth` renders it for `config`, with deploy-time ARNs
 * replaced by local placeholders. Synthesizes the real stack offline in a throwaway app; Lambda bundling is
 * skipped (`bundling: false`, the default) because code assets never appear in the definition. So is CDK's
 * built-in CloudFormation validation of the template: nothing here deploys it (`cdk synth` and the infra tests
 * validate the stage's templates), and starting its rule engine was most of the synthesis time (about 6 of 10
 * CPU seconds for the prod example).
 */
export const drillDefinition = (
  config: StewardConfig,
  options: { bundling?: boolean; outdir?: string } = {},
): AslDefinition => {
  if (!config.drill.enabled) {
    throw new ConfigError(`No drill state machine for ${config.stage}`, ['drill.enabled: is false']);
  }
  // A caller that may be killed mid-synthesis (the sandbox's child) owns the directory and removes it.
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'steward-drill-synth-'));
  try {
    const app = new App({
      outdir,
      builtinCloudFormationValidation: false,
      context: { ...cdkContext(), ...(options.bundling ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    });
    const stack = new StewardStack(app, stackId(config.stage), { config });
    const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
    return definitionFromTemplate(template, `steward-${config.stage}-drill`);
  } finally {
    if (!options.outdir) rmSync(outdir, { recursive: true, force: true });
  }
};
