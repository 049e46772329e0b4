import { ConfigError } from '../errors.js';
import { parseConfig, type StewardConfig } from './schema.js';

/**
 * The identifier the CDK app replaces, at bundle time (esbuild `define`), with the stage's resolved config
 * as a JSON string: each Lambda bundle carries its own stage's validated document and nothing else.
 */
export const EMBEDDED_CONFIG = '__STEWARD_CONFIG__';

declare const __STEWARD_CONFIG__: string | undefined;

/**
 * The stage config embedded in this bundle, validated again with the same schema as at synth (cold start).
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
  return parseConfig(doc, 'embedded config');
};

/** The esbuild `define` value that embeds `config` (a JS string literal holding its JSON). */
export const embedDefine = (config: StewardConfig): string => JSON.stringify(JSON.stringify(config));
