import type { StewardConfigInput } from '../schema.js';

/** Dev: everything in dry-run, short retention. Edit to match your account. */
export const dev = {
  stage: 'dev',
  region: 'eu-west-1',
  dryRun: true,
  backup: { policies: { daily: { retention: 'short' } } },
  retention: { policies: { short: { daily: 7, weekly: 0, keepAtLeast: 2 } }, includeDrRegion: false },
} satisfies StewardConfigInput;
