import { SFNClient } from '@aws-sdk/client-sfn';
import { type ClientOptions, http, memo } from './kit.js';

/** One Step Functions client per region per container (task tokens, the drill CLI). */
export const sfnClient = (region: string, o?: ClientOptions): SFNClient =>
  memo('sfn', region, o, () => new SFNClient({ region, ...http(o) }));
