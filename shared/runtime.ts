import { snsClient } from './aws/clients.js';
import { BaseEnv, loadEnv } from './config/env.js';
import type { StewardConfig } from './config/schema.js';
import { loadStageConfig } from './config/stages.js';
import { type Notifier, snsNotifier } from './notify/notifier.js';

/** What every handler's real wiring starts from: env, stage config, notifier, clock. */
export interface BaseDeps {
  env: BaseEnv;
  config: StewardConfig;
  notifier: Notifier;
  now: () => Date;
}

/** Build the real base deps once per container; config errors surface here, at cold start. */
export const wireBase = (env: Record<string, string | undefined> = process.env): BaseDeps => {
  const e = loadEnv(BaseEnv, env);
  const config = loadStageConfig(e.STAGE);
  return {
    env: e,
    config,
    notifier: snsNotifier(
      snsClient(config.region),
      { critical: e.CRITICAL_TOPIC_ARN, warning: e.WARNING_TOPIC_ARN, info: e.INFO_TOPIC_ARN },
      config.stage,
    ),
    now: () => new Date(),
  };
};
