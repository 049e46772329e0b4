import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
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

/** One Resource Groups Tagging API client per region per container (ElastiCache snapshot tags in bulk). */
export const taggingClient = (
  region: string,
  o?: ClientOptions,
  as?: ClientIdentity,
): ResourceGroupsTaggingAPIClient =>
  memo(
    'tagging',
    region,
    o,
    () =>
      paced(
        new ResourceGroupsTaggingAPIClient({ region, ...adaptive, ...http(o), ...signer(as) }),
        tokenBucket(API_PACE),
      ),
    as,
  );
