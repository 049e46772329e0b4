/*
 * The answer of a synchronous Lambda Invoke (`RequestResponse`), decoded once for every caller: the drill's
 * relay to the DR stack's cache verifier (./cache-verifier.ts) and the CLI's `steward approve --target`
 * (cli/lambda-invoke.ts). Pure: each caller sends its own InvokeCommand (the IAM suite attributes an SDK
 * command to the code that sends it) and turns a failure into its own error.
 */

/** What a synchronous invoke answered: the function's JSON result, or the error it failed with. */
export type InvokeAnswer =
  { ok: true; value: unknown } | { ok: false; errorType: string; errorMessage: string };

/** The part of an InvokeCommand output the answer is read from. */
export interface InvokeOutput {
  Payload?: Uint8Array | undefined;
  FunctionError?: string | undefined;
}

/** At most this much of a payload that is not the expected JSON goes into a message (a payload is up to 6 MB). */
export const PAYLOAD_TEXT_LIMIT = 1000;

/** The error type of an answer whose payload is not JSON although the function did not fail. */
export const NOT_JSON = 'InvokeAnswerNotJson';

const cut = (text: string) =>
  text.length > PAYLOAD_TEXT_LIMIT
    ? `${text.slice(0, PAYLOAD_TEXT_LIMIT)}… (${text.length} characters)`
    : text;

const nonEmpty = (x: unknown): string | undefined => (typeof x === 'string' && x ? x : undefined);

/**
 * Decode an invoke's answer (Lambda API Reference, Invoke). `FunctionError` set: the function failed and the
 * payload is its error document, for Node.js `{ errorType, errorMessage, trace }` (Lambda Developer Guide, "AWS
 * Lambda function errors in Node.js"); the type falls back to `FunctionError` (`Unhandled` for a thrown error)
 * and the message to the payload's text, cut to PAYLOAD_TEXT_LIMIT characters. Otherwise the payload is the
 * function's result as JSON (none: undefined); a payload that is not JSON is a failure too (NOT_JSON), since
 * neither caller can use it, with its text cut the same way.
 */
export const decodeInvokeAnswer = (out: InvokeOutput): InvokeAnswer => {
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  let parsed = true;
  let body: unknown;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    parsed = false;
  }
  if (out.FunctionError) {
    const doc = (parsed && body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    return {
      ok: false,
      errorType: nonEmpty(doc.errorType) ?? out.FunctionError,
      errorMessage: typeof doc.errorMessage === 'string' ? doc.errorMessage : cut(text),
    };
  }
  if (!parsed)
    return { ok: false, errorType: NOT_JSON, errorMessage: `the answer is not JSON: ${cut(text)}` };
  return { ok: true, value: body };
};
