import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { tokenBucket } from '../../pool.js';
import {
  API_PACE,
  adaptive,
  type ClientIdentity,
  type ClientOptions,
  http,
  memo,
  paced,
  signer,
} from './kit.js';

/** One ElastiCache client per region per container. */
export const elastiCacheClient = (
  region: string,
  o?: ClientOptions,
  as?: ClientIdentity,
): ElastiCacheClient =>
  memo(
    'elasticache',
    region,
    o,
    () =>
      paced(new ElastiCacheClient({ region, ...adaptive, ...http(o), ...signer(as) }), tokenBucket(API_PACE)),
    as,
  );
