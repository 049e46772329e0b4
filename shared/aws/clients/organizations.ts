import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { adaptive, type ClientOptions, http, memo } from './kit.js';

/**
 * One Organizations client per container. Organizations is a global service: the SDK's endpoint rules send
 * every commercial-partition region to its one endpoint (organizations.us-east-1.amazonaws.com).
 */
export const organizationsClient = (region: string, o?: ClientOptions): OrganizationsClient =>
  memo('organizations', region, o, () => new OrganizationsClient({ region, ...adaptive, ...http(o) }));
