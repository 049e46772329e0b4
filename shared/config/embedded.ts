import { ConfigError } from '../errors.js';
import type { StewardConfig } from './schema.js';

/**
 * The identifier the CDK app replaces, at bundle time (esbuild `define`), with the stage's resolved config
 * as a JSON string: each Lambda bundle carries its own stage's validated document and nothing else.
 */
export const EMBEDDED_CONFIG = '__STEWARD_CONFIG__';

declare const __STEWARD_CONFIG__: string | undefined;

/**
 * The stage config embedded in this bundle, as data. It was validated at synth by the config schema (a bad
 * config fails `cdk synth`, naming the field) and written by the same build that wrote this code, so cold
 * start only reads it: the schema (and the CPU to run it) stays out of the function bundles.
 * Outside a bundle (tests, tools) the identifier is read from `globalThis`.
 */
export const embeddedConfig = (): StewardConfig => {
  const raw = typeof __STEWARD_CONFIG__ === 'string' ? __STEWARD_CONFIG__ : undefined;
  if (raw === undefined) {
    throw new ConfigError('No steward config in this function', [
      `${EMBEDDED_CONFIG}: not set; deploy the function with the steward CDK app, which embeds the stage's validated config`,
    ]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError('Embedded steward config is not JSON', [
      `${EMBEDDED_CONFIG}: ${(e as Error).message}`,
    ]);
  }
  const stage = (doc as { stage?: unknown } | null)?.stage;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || typeof stage !== 'string') {
    throw new ConfigError('Embedded steward config is not a stage config', [
      `${EMBEDDED_CONFIG}: expected the resolved config object of one stage`,
    ]);
  }
  return doc as StewardConfig;
};

/**
 * The esbuild `define` value that embeds `config` (a JS string literal holding its JSON). `config` must be
 * the output of `parseConfig`: the functions trust it as validated.
 */
export const embedDefine = (config: StewardConfig): string => JSON.stringify(JSON.stringify(config));
