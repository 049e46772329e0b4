import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { lambdaCacheVerifier, RemoteVerifyError } from '../../../shared/aws/cache-verifier.js';
import { decodeInvokeAnswer, NOT_JSON, PAYLOAD_TEXT_LIMIT } from '../../../shared/aws/lambda-answer.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const json = (x: unknown) => bytes(JSON.stringify(x));
const LONG = `<html>${'x'.repeat(5000)}</html>`;

describe('decodeInvokeAnswer', () => {
  it("answers the function's JSON result; no payload is undefined, JSON null is null", () => {
    expect(decodeInvokeAnswer({ Payload: json({ drillId: 'd-1', ok: true }) })).toEqual({
      ok: true,
      value: { drillId: 'd-1', ok: true },
    });
    expect(decodeInvokeAnswer({})).toEqual({ ok: true, value: undefined });
    expect(decodeInvokeAnswer({ Payload: bytes('null') })).toEqual({ ok: true, value: null });
  });

  it("reads a failed run's Node.js error document: its type and message", () => {
    const doc = { errorType: 'EventShapeError', errorMessage: 'Invalid drill state', trace: ['at x'] };
    expect(decodeInvokeAnswer({ FunctionError: 'Unhandled', Payload: json(doc) })).toEqual({
      ok: false,
      errorType: 'EventShapeError',
      errorMessage: 'Invalid drill state',
    });
  });

  it('falls back to FunctionError for the type and to the payload text, cut, for the message', () => {
    // An empty or missing errorType, and a document that is not JSON (a runtime that died mid-answer).
    expect(
      decodeInvokeAnswer({
        FunctionError: 'Unhandled',
        Payload: json({ errorType: '', errorMessage: 'boom' }),
      }),
    ).toEqual({ ok: false, errorType: 'Unhandled', errorMessage: 'boom' });
    expect(decodeInvokeAnswer({ FunctionError: 'Unhandled', Payload: json('just a string') })).toEqual({
      ok: false,
      errorType: 'Unhandled',
      errorMessage: '"just a string"',
    });
    const cut = decodeInvokeAnswer({ FunctionError: 'Unhandled', Payload: bytes(LONG) });
    expect(cut).toEqual({
      ok: false,
      errorType: 'Unhandled',
      errorMessage: `${LONG.slice(0, PAYLOAD_TEXT_LIMIT)}… (${LONG.length} characters)`,
    });
    expect(decodeInvokeAnswer({ FunctionError: 'Unhandled' })).toEqual({
      ok: false,
      errorType: 'Unhandled',
      errorMessage: '',
    });
  });

  it('refuses a successful answer that is not JSON, naming it and showing its text, cut', () => {
    expect(decodeInvokeAnswer({ Payload: bytes('OK') })).toEqual({
      ok: false,
      errorType: NOT_JSON,
      errorMessage: 'the answer is not JSON: OK',
    });
    const long = decodeInvokeAnswer({ Payload: bytes(LONG) });
    expect(long.ok).toBe(false);
    expect(!long.ok && long.errorMessage.length).toBeLessThan(PAYLOAD_TEXT_LIMIT + 60);
  });
});

describe('lambdaCacheVerifier (the drill relaying verify to the DR region)', () => {
  const lambda = mockClient(LambdaClient);
  const FN = 'arn:aws:lambda:us-west-2:111122223333:function:steward-prod-drill-verify-cache';
  const verifier = () =>
    lambdaCacheVerifier(new LambdaClient({ region: 'us-west-2' }), 'us-west-2', async () => FN);
  beforeEach(() => lambda.reset());

  it('returns the drill state the verifier answered', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: json({ drillId: 'd-1' }) as never });
    expect(await verifier().verify({ task: 'verify' } as never)).toEqual({ drillId: 'd-1' });
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: FN,
      InvocationType: 'RequestResponse',
    });
  });

  it("rethrows the verifier's failure under its error name, and a long non-JSON document cut", async () => {
    lambda
      .on(InvokeCommand)
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: json({ errorType: 'VerifyTimeout', errorMessage: 'no answer in 30 s' }) as never,
      })
      .resolvesOnce({ StatusCode: 200, FunctionError: 'Unhandled', Payload: bytes(LONG) as never })
      .resolvesOnce({ StatusCode: 200, Payload: bytes('OK') as never });

    const first = await verifier()
      .verify({} as never)
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(RemoteVerifyError);
    expect(first).toMatchObject({ name: 'VerifyTimeout', message: `${FN} in us-west-2: no answer in 30 s` });
    const second = (await verifier()
      .verify({} as never)
      .catch((e: unknown) => e)) as Error;
    expect(second.name).toBe('Unhandled');
    expect(second.message).toContain(`${LONG.slice(0, PAYLOAD_TEXT_LIMIT)}… (${LONG.length} characters)`);
    const third = (await verifier()
      .verify({} as never)
      .catch((e: unknown) => e)) as Error;
    expect(third).toMatchObject({
      name: NOT_JSON,
      message: `${FN} in us-west-2: the answer is not JSON: OK`,
    });
  });
});
