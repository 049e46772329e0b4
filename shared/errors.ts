/** Exit status of the CLI and of the CDK app when input, usage or config is bad: nothing was called or changed. */
export const BAD_INPUT_EXIT = 2;

/** Base class: every error steward raises on purpose is one of these. */
export class StewardError extends Error {
  override name = 'StewardError';
}

/** Config or environment failed validation; `issues` names every bad field path. */
export class ConfigError extends StewardError {
  override name = 'ConfigError';
  /** The message without the issues (for output that lists the issues one per line). */
  readonly summary: string;
  constructor(
    message: string,
    readonly issues: string[] = [],
    options?: ErrorOptions,
  ) {
    super(issues.length ? `${message}: ${issues.join('; ')}` : message, options);
    this.summary = message;
  }
}

/** A ConfigError for a terminal: the summary, then one issue per line. */
export const explainConfigError = (e: ConfigError): string =>
  [`${e.name}: ${e.summary}`, ...e.issues.map((i) => `  ${i}`)].join('\n');

/** An event or request did not have the shape we accept; names the field path. */
export class EventShapeError extends StewardError {
  override name = 'EventShapeError';
  constructor(
    message: string,
    readonly issues: string[] = [],
    options?: ErrorOptions,
  ) {
    super(issues.length ? `${message}: ${issues.join('; ')}` : message, options);
  }
}

/** An AWS call failed; names the operation and the resource, keeps the SDK error as cause. */
export class AwsCallError extends StewardError {
  override name = 'AwsCallError';
  constructor(
    readonly operation: string,
    readonly resource: string,
    cause: unknown,
  ) {
    super(`${operation} failed for ${resource}: ${errorName(cause)}: ${errorMessage(cause)}`, { cause });
  }
  /** The SDK error name (e.g. AccessDenied, DBSnapshotNotFound). */
  get code(): string {
    return errorName(this.cause);
  }
}

/** A guard refused to act (quota full, unsafe state). Thrown only where acting would be wrong. */
export class GuardRefusedError extends StewardError {
  override name = 'GuardRefusedError';
}

/** One failed action of a run: what, the message, the error's name, and the original error. */
export interface Failure {
  resource: string;
  error: string;
  code?: string;
  cause?: unknown;
}

/** How many failures a PartialFailureError's message names; the rest are counted (all are kept). */
export const FAILURES_NAMED = 10;
/**
 * The longest text a PartialFailureError's message quotes per failure: room for an AwsCallError's
 * operation, resource ARN and SDK error (the part that matters comes last), not for a policy document.
 */
const FAILURE_TEXT_MAX = 500;

/**
 * Some actions of a run failed; thrown after the run reported every outcome. Its message is bounded (the
 * first FAILURES_NAMED failures, each cut, then "and K more": it ends up in Lambda's error report, logs and
 * DLQ attributes); every original error is kept in full (`failures`, `errors`, and `failures[i].cause`);
 * `cause` is the first of them, so one failure reads like itself.
 */
export class PartialFailureError extends StewardError {
  override name = 'PartialFailureError';
  readonly errors: unknown[];
  constructor(
    message: string,
    readonly failures: Failure[],
  ) {
    const errors = failures.flatMap((f) => (f.cause === undefined ? [] : [f.cause]));
    const named = failures
      .slice(0, FAILURES_NAMED)
      .map((f) => `${clip(f.resource, FAILURE_TEXT_MAX / 2)} (${clip(f.error, FAILURE_TEXT_MAX)})`);
    const more = failures.length - named.length;
    super(
      `${message}: ${[...named, ...(more > 0 ? [`and ${more} more`] : [])].join('; ')}`,
      errors.length ? { cause: errors[0] } : undefined,
    );
    this.errors = errors;
  }
}

/** A failure from a caught error, keeping it. */
export const failureOf = (resource: string, e: unknown): Failure => ({
  resource,
  error: errorMessage(e),
  code: errorCode(e),
  cause: e,
});

/** The error's name as the SDK reports it (`name`, or `Code`/`code` on older shapes). */
export const errorName = (e: unknown): string => {
  if (e && typeof e === 'object') {
    const o = e as { name?: unknown; Code?: unknown; code?: unknown };
    for (const v of [o.name, o.Code, o.code]) if (typeof v === 'string' && v && v !== 'Error') return v;
  }
  return 'Error';
};

/** What went wrong, shortest: the SDK error name under an AwsCallError, else the error's own name. */
export const errorCode = (e: unknown): string => (e instanceof AwsCallError ? e.code : errorName(e));

/** The error's message, whatever was thrown. */
export const errorMessage = (e: unknown): string =>
  e instanceof Error
    ? e.message
    : e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string'
      ? (e as { message: string }).message
      : String(e);

/** How much of an input an error message echoes: enough to recognise it, never a whole payload. */
export const ECHO_MAX = 80;

/** Text cut to at most `max` characters, saying how much was left out. */
export const clip = (text: string, max: number): string => {
  if (text.length <= max) return text;
  const tail = `... (${text.length} chars)`;
  return `${text.slice(0, Math.max(0, max - tail.length))}${tail}`;
};

/**
 * An input as an error message quotes it: a string in quotes, anything else as JSON, at most `max`
 * characters. Every message that echoes what a caller sent goes through this one helper.
 */
export const echo = (value: unknown, max = ECHO_MAX): string => {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return clip(text, max);
};

/** Render zod-style issues as `path.to.field: message`. */
export const formatIssues = (
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): string[] => issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`);
