import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { type ClientIdentity, type ClientOptions, pacedFactory } from './kit.js';

/** One ElastiCache client per region per container. */
export const elastiCacheClient: (
  region: string,
  o?: ClientOptions,
  as?: ClientIdentity,
) => ElastiCacheClient = /* @__PURE__ */ pacedFactory('elasticache', ElastiCacheClient);
