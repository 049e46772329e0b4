import { EC2Client } from '@aws-sdk/client-ec2';
import { type ClientIdentity, type ClientOptions, pacedFactory } from './kit.js';

/**
 * One EC2 client per region (and target identity) per container: EBS snapshot sets. EC2 throttles per
 * account and API action with a token bucket (EC2 API reference, "Request throttling"); steward keeps the
 * same pace as for RDS, far under it, and retries adaptively like the others.
 */
export const ec2Client: (region: string, o?: ClientOptions, as?: ClientIdentity) => EC2Client =
  /* @__PURE__ */ pacedFactory('ec2', EC2Client);
