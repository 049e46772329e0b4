import { logger } from '../../shared/observability.js';

const KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL'] as const;

/**
 * Point the SDK at nothing real for a simulation: placeholder keys (every request is signed, then the fake
 * answers it inside the SDK) and an endpoint on a closed local port, so a client the fake is not attached
 * to fails at once instead of reaching AWS; logs silenced. Returns what puts everything back.
 */
export const offlineAws = (accessKeyId: string): (() => void) => {
  const saved = KEYS.map((k) => [k, process.env[k]] as const);
  const level = logger.getLevelName();
  process.env.AWS_ACCESS_KEY_ID = accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = 'simulated';
  process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
  logger.setLogLevel('SILENT');
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    logger.setLogLevel(level as never);
  };
};
