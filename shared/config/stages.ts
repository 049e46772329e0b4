import { ConfigError } from '../errors.js';
import { parseConfig, Stage, type StewardConfig } from './schema.js';
import { dev } from './stages/dev.js';
import { prod } from './stages/prod.js';
import { staging } from './stages/staging.js';

const inputs: Record<Stage, unknown> = { dev, staging, prod };

/** The stage names that have a config. */
export const stageNames = Stage.options;

/** Validated config for a stage; unknown stage or bad config → ConfigError naming it. */
export const loadStageConfig = (stage: string): StewardConfig => {
  const parsed = Stage.safeParse(stage);
  if (!parsed.success) {
    throw new ConfigError(`Unknown stage "${stage}"`, [`stage: must be one of ${stageNames.join(', ')}`]);
  }
  return parseConfig(inputs[parsed.data], `shared/config/stages/${parsed.data}.ts`);
};
