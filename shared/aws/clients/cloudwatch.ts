import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { type ClientIdentity, type ClientOptions, http, memo, signer } from './kit.js';

/** One CloudWatch client per region per container (alarm descriptions for scaling). */
export const cloudWatchClient = (region: string, o?: ClientOptions, as?: ClientIdentity): CloudWatchClient =>
  memo('cloudwatch', region, o, () => new CloudWatchClient({ region, ...http(o), ...signer(as) }), as);
