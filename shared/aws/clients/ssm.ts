import { SSMClient } from '@aws-sdk/client-ssm';
import { adaptive, type ClientIdentity, type ClientOptions, http, memo, signer } from './kit.js';

/** One Systems Manager client per region per container (application-consistency commands, drill checks). */
export const ssmClient = (region: string, o?: ClientOptions, as?: ClientIdentity): SSMClient =>
  memo('ssm', region, o, () => new SSMClient({ region, ...adaptive, ...http(o), ...signer(as) }), as);
