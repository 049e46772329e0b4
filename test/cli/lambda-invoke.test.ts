import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { FunctionFailedError, invokeFunction } from '../../cli/lambda-invoke.js';
import { NOT_JSON, PAYLOAD_TEXT_LIMIT } from '../../shared/aws/lambda-answer.js';
import { AwsCallError } from '../../shared/errors.js';

// The CLI's invoke of a deployed function (steward approve --target) decodes the answer with the drill's
// decoder (shared/aws/lambda-answer.ts); what the CLI adds is its request and its error.
const lambda = mockClient(LambdaClient);
const FN = 'steward-prod-scaling';
const bytes = (text: string) => new TextEncoder().encode(text);
const invoke = () => invokeFunction(new LambdaClient({ region: 'eu-west-1' }), FN, { action: 'approve' });

describe('invokeFunction (CLI)', () => {
  beforeEach(() => lambda.reset());

  it('sends the payload as JSON, RequestResponse, and returns the JSON result', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: bytes('{"outcomes":[]}') as never });
    expect(await invoke()).toEqual({ outcomes: [] });
    const sent = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({ FunctionName: FN, InvocationType: 'RequestResponse' });
    expect(new TextDecoder().decode(sent.Payload as Uint8Array)).toBe('{"action":"approve"}');
  });

  it('names the function, the error type and message of a failed run; a non-JSON document cut', async () => {
    const long = 'Task timed out '.repeat(200);
    lambda
      .on(InvokeCommand)
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: bytes(
          JSON.stringify({ errorType: 'PartialFailureError', errorMessage: '1 of 1 failed' }),
        ) as never,
      })
      .resolvesOnce({ StatusCode: 200, FunctionError: 'Unhandled', Payload: bytes(long) as never })
      .resolvesOnce({ StatusCode: 200, Payload: bytes('OK') as never });

    await expect(invoke()).rejects.toThrow(`${FN} failed: PartialFailureError: 1 of 1 failed`);
    const cut = (await invoke().catch((e: unknown) => e)) as Error;
    expect(cut).toBeInstanceOf(FunctionFailedError);
    expect(cut.message).toBe(
      `${FN} failed: Unhandled: ${long.slice(0, PAYLOAD_TEXT_LIMIT)}… (${long.length} characters)`,
    );
    await expect(invoke()).rejects.toThrow(`${FN} failed: ${NOT_JSON}: the answer is not JSON: OK`);
  });

  it('wraps a call Lambda refuses in AwsCallError naming the function', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const e = await invoke().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AwsCallError);
    expect(String((e as Error).message)).toMatch(/Invoke failed for function steward-prod-scaling/);
  });
});
