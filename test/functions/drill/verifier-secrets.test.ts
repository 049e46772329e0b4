import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { wire } from '../../../functions/drill-verify/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { DrillVerifyEnv } from '../../../shared/drill/env.js';
import { DRILL_NOW, drillConfigInput } from '../../support/drill-deps.js';
import { splitBuildModules } from '../../support/split-build.js';

// The verifier's secret reader (auth: secret) and its Secrets Manager client load at the first secret read:
// auth: iam, the default, signs its token locally and never loads them.

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:steward';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders-db-verifier-AbCdEf';

describe("the verifier's secret reader, loaded on first read", () => {
  const sm = mockClient(SecretsManagerClient);
  afterAll(() => sm.restore());

  it('reads a target secret through Secrets Manager at the first read, and once per read', async () => {
    // Prepare
    sm.reset();
    sm.on(GetSecretValueCommand, { SecretId: SECRET }).resolves({
      SecretString: JSON.stringify({ username: 'verifier', password: 's3cret' }),
    });
    const deps = wire(
      {
        config: parseConfig(drillConfigInput, 'test'),
        dryRun: false,
        now: () => DRILL_NOW,
      },
      DrillVerifyEnv.parse({ CRITICAL_TOPIC_ARN: TOPIC, WARNING_TOPIC_ARN: TOPIC, INFO_TOPIC_ARN: TOPIC }),
    );

    // Act
    const first = await deps.credentials.get({ secretArn: SECRET });
    const again = await deps.credentials.get({ secretArn: SECRET });

    // Assert
    expect(first).toEqual({ username: 'verifier', password: 's3cret' });
    expect(again).toEqual(first);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('names the secret when it cannot be read, as before', async () => {
    // Prepare
    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'not json' });
    const deps = wire(
      {
        config: parseConfig(drillConfigInput, 'test'),
        dryRun: false,
        now: () => DRILL_NOW,
      },
      DrillVerifyEnv.parse({ CRITICAL_TOPIC_ARN: TOPIC, WARNING_TOPIC_ARN: TOPIC, INFO_TOPIC_ARN: TOPIC }),
    );

    // Act / Assert
    await expect(deps.credentials.get({ secretArn: SECRET })).rejects.toThrow(`secret ${SECRET} is not JSON`);
  });

  it('is not in the modules a cold start loads, but ships in a chunk of its own', async () => {
    // Act
    const { cold, shipped } = await splitBuildModules('functions/drill-verify/handler.ts');
    const secrets = (m: Set<string>) =>
      [...m].filter((f) => f === 'shared/aws/secrets.ts' || f.includes('client-secrets-manager/'));

    // Assert
    expect(secrets(cold)).toEqual([]);
    expect(secrets(shipped)).toContain('shared/aws/secrets.ts');
    expect(secrets(shipped).some((f) => f.includes('SecretsManagerClient'))).toBe(true);
  });
});
