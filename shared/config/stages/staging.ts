import type { StewardConfigInput } from '../schema.js';

export const staging = {
  stage: 'staging',
  region: 'eu-west-1',
  backup: { policies: { daily: { retention: 'standard' } } },
  retention: { policies: { standard: { daily: 14, weekly: 4, keepAtLeast: 3 } }, includeDrRegion: false },
} satisfies StewardConfigInput;
