import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { type ClientIdentity, type ClientOptions, pacedFactory } from './kit.js';

/** One Resource Groups Tagging API client per region per container (ElastiCache snapshot tags in bulk). */
export const taggingClient: (
  region: string,
  o?: ClientOptions,
  as?: ClientIdentity,
) => ResourceGroupsTaggingAPIClient = /* @__PURE__ */ pacedFactory('tagging', ResourceGroupsTaggingAPIClient);
