import { RDSClient } from '@aws-sdk/client-rds';
import { type ClientIdentity, type ClientOptions, pacedFactory } from './kit.js';

/** One RDS client per region (and target identity) per container. */
export const rdsClient: (region: string, o?: ClientOptions, as?: ClientIdentity) => RDSClient =
  /* @__PURE__ */ pacedFactory('rds', RDSClient);
