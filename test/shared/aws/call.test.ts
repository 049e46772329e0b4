import { describe, expect, it } from 'vitest';
import { attempt, call } from '../../../shared/aws/call.js';
import { AwsCallError, StewardError } from '../../../shared/errors.js';

const sdkError = (name: string) => Object.assign(new Error(`${name} happened`), { name, $metadata: {} });
const failing = (name: string) => () => Promise.reject(sdkError(name));

describe('attempt', () => {
  it('returns the response of a call that succeeds', async () => {
    // Act
    const r = await attempt('GetThing', 'thing 1', async () => 42);
    // Assert
    expect(r).toEqual({ ok: true, value: 42 });
  });

  it.each([
    ['exists', 'DBSnapshotAlreadyExistsFault'],
    ['gone', 'DBSnapshotNotFoundFault'],
    ['refused', 'ConditionalCheckFailedException'],
  ] as const)('answers %s for an expected %s, keeping the SDK error', async (answer, name) => {
    // Act
    const r = await attempt('Op', 'res', failing(name), { [answer]: [name] });
    // Assert
    expect(r).toMatchObject({ ok: false, answer });
    expect(r.ok ? undefined : (r.cause as Error).name).toBe(name);
  });

  it('wraps anything else in one AwsCallError naming operation and resource, with the SDK error as cause', async () => {
    // Prepare
    const e = sdkError('ThrottlingException');
    // Act
    const err = await attempt('DeleteDBSnapshot', 'snapshot s1 in eu-west-1', () => Promise.reject(e), {
      gone: ['DBSnapshotNotFoundFault'],
    }).catch((x: unknown) => x);
    // Assert
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'DeleteDBSnapshot', code: 'ThrottlingException', cause: e });
    expect((err as Error).message).toBe(
      'DeleteDBSnapshot failed for snapshot s1 in eu-west-1: ThrottlingException: ThrottlingException happened',
    );
  });

  it('lets the caller explain an error it knows better, and falls back to AwsCallError otherwise', async () => {
    // Prepare
    const explain = (e: unknown) =>
      (e as Error).name === 'KMSKeyNotAccessibleFault'
        ? new StewardError('key unusable', { cause: e })
        : undefined;
    // Act
    const known = await attempt('Copy', 'r', failing('KMSKeyNotAccessibleFault'), {}, explain).catch(
      (x) => x,
    );
    const other = await attempt('Copy', 'r', failing('AccessDenied'), {}, explain).catch((x) => x);
    // Assert
    expect(known).toMatchObject({ name: 'StewardError', message: 'key unusable' });
    expect(other).toBeInstanceOf(AwsCallError);
  });
});

describe('call', () => {
  it('returns the response, or throws AwsCallError for any error', async () => {
    // Act / Assert
    expect(await call('Op', 'r', async () => 'ok')).toBe('ok');
    await expect(call('Op', 'r', failing('DBSnapshotNotFoundFault'))).rejects.toMatchObject({
      name: 'AwsCallError',
      code: 'DBSnapshotNotFoundFault',
    });
  });
});
