import { STSClient } from '@aws-sdk/client-sts';
import { type ClientOptions, http, memo } from './kit.js';

/** One STS client per region per container (fan-out targets' roles; the CLI asks which account it runs in). */
export const stsClient = (region: string, o?: ClientOptions): STSClient =>
  memo('sts', region, o, () => new STSClient({ region, ...http(o) }));
