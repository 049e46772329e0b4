import { RDSClient } from '@aws-sdk/client-rds';
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

/** One RDS client per region (and target identity) per container. */
export const rdsClient = (region: string, o?: ClientOptions, as?: ClientIdentity): RDSClient =>
  memo(
    'rds',
    region,
    o,
    () => paced(new RDSClient({ region, ...adaptive, ...http(o), ...signer(as) }), tokenBucket(API_PACE)),
    as,
  );
