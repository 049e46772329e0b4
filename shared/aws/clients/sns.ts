import { SNSClient } from '@aws-sdk/client-sns';
import { type ClientOptions, http, memo } from './kit.js';

/** One SNS client per region per container. */
export const snsClient = (region: string, o?: ClientOptions): SNSClient =>
  memo('sns', region, o, () => new SNSClient({ region, ...http(o) }));
