import { embeddedConfig } from './config/embedded.js';
import { BaseEnv, loadEnv } from './config/env.js';
import type { StewardConfig } from './config/schema.js';
import type { Place } from './fleet/place.js';

// The deps of a function that sends no notifications (the drill verifier), apart from shared/runtime.ts: that
// module's notifier loads the pager route with `import()`, and esbuild makes a chunk of every module a bundle's
// graph imports that way, used or not, so a verifier importing it would carry EventBridge's client.

/** Base deps without the notifier (shared/runtime.ts BaseDeps): for a function that sends no notifications. */
export interface StageDeps {
  config: StewardConfig;
  /** Forced dry run (stage config or function env); a request can add dry run, never remove it. */
  dryRun: boolean;
  /**
   * The operator's preview (the CLI's `--dry-run`), apart from the stage's dry run: what still runs in a
   * dry-run stage because it changes nothing in AWS (cost alerts, which only notify) is held back by it.
   */
  preview?: boolean;
  now: () => Date;
  /** Where this invocation acts (shared/runtime.ts, `atPlace`); absent in runs that did not say. */
  place?: Place;
}

export const stageDeps = (config: StewardConfig, e: BaseEnv): StageDeps => ({
  config,
  dryRun: config.dryRun || e.DRY_RUN,
  now: () => new Date(),
});

/**
 * `wireBase` without the notifier: the drill verifier runs in an isolated VPC that reaches neither SNS nor
 * EventBridge, so it builds no client for them (and its bundle carries none).
 */
export const wireStage = (
  env: Record<string, string | undefined> = process.env,
  config: StewardConfig = embeddedConfig(),
): StageDeps => stageDeps(config, loadEnv(BaseEnv, env));
