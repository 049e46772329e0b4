import { S3Client } from '@aws-sdk/client-s3';
import { type ClientIdentity, type ClientOptions, http, memo, signer } from './kit.js';

/**
 * One S3 client per region (and target identity) per container: drill reports and baselines, and a spoke
 * target's Redis DR buckets.
 */
export const s3Client = (region: string, o?: ClientOptions, as?: ClientIdentity): S3Client =>
  memo('s3', region, o, () => new S3Client({ region, ...http(o), ...signer(as) }), as);
