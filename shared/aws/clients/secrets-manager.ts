import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ClientOptions, http, memo } from './kit.js';

/** One Secrets Manager client per region per container (drill credentials). */
export const secretsClient = (region: string, o?: ClientOptions): SecretsManagerClient =>
  memo('secretsmanager', region, o, () => new SecretsManagerClient({ region, ...http(o) }));
