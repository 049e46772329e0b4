import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { cacheTokenSigner, environmentCredentials, signCacheToken } from '../../../shared/aws/cache-login.js';

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === 'string'
    ? d
    : d instanceof ArrayBuffer
      ? new Uint8Array(d)
      : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** The SDK's own SigV4 implementation, as the independent reference (what AWS's Java example does). */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView) {
    this.h.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
}

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ',
};
const now = new Date('2026-02-01T05:12:01.000Z');

describe('signCacheToken', () => {
  it('is the SigV4 presigned connect URL without its scheme, byte for byte what the SDK signs', async () => {
    // Prepare
    const reference = new SignatureV4({
      service: 'elasticache',
      region: 'eu-west-1',
      credentials,
      sha256: Sha256,
    });
    const presigned = await reference.presign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: 'steward-drill-sessions-1a2b3c4d',
        path: '/',
        query: { Action: 'connect', User: 'steward-prod-drill-verifier' },
        headers: { host: 'steward-drill-sessions-1a2b3c4d' },
      },
      { expiresIn: 900, signingDate: now },
    );
    const q = presigned.query as Record<string, string>;

    // Act
    const token = signCacheToken(
      {
        groupId: 'steward-drill-sessions-1a2b3c4d',
        userId: 'steward-prod-drill-verifier',
        region: 'eu-west-1',
        now,
      },
      credentials,
    );

    // Assert
    const url = new URL(`http://${token}`);
    expect(url.hostname).toBe('steward-drill-sessions-1a2b3c4d');
    expect(Object.fromEntries(url.searchParams)).toEqual(q);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(token.startsWith('steward-drill-sessions-1a2b3c4d/?')).toBe(true);
  });

  it('signs with the environment credentials Lambda gives the function, and says so when there are none', async () => {
    const sign = cacheTokenSigner(
      'eu-west-1',
      () => environmentCredentials({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' }),
      () => now,
    );
    await expect(sign({ groupId: 'g', userId: 'u' })).resolves.toMatch(
      /^g\/\?Action=connect&User=u&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260201%2Feu-west-1%2Felasticache%2Faws4_request/,
    );
    expect(() => environmentCredentials({})).toThrow(/no AWS credentials/);
  });
});
