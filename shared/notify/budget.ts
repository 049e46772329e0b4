import { clip } from '../errors.js';
import type { Notification } from './notifier.js';

/** SNS's limit on one published message, attributes included: 256 KiB. */
export const SNS_MESSAGE_LIMIT = 256 * 1024;

/**
 * What steward allows itself per message: a quarter of the limit. Room for protocol wrappers (an
 * email subscription's headers, a chat envelope) and for a summary that grows a little with the estate.
 */
export const MESSAGE_BUDGET = 64 * 1024;

/** How many resources a summary names per group (failures, skips of one reason, successes). */
export const TOP_N = 10;

/** The first `n` items joined, then how many more: a list in one line that stays short at 500 databases. */
export const firstOf = (items: readonly string[], n = TOP_N): string =>
  items.length > n ? `${items.slice(0, n).join(', ')} and ${items.length - n} more` : items.join(', ');

/** How many failures a summary names: failures are what the reader acts on. */
export const TOP_FAILURES = 25;

/** The longest line a cut message keeps (an AWS error can carry a whole policy document). */
const LINE_MAX = 1000;

/** The parts of a Publish request SNS counts against its limit. */
export interface PublishedParts {
  Subject?: string | undefined;
  Message?: string | undefined;
  MessageAttributes?:
    Record<string, { DataType?: string | undefined; StringValue?: string | undefined }> | undefined;
}

const utf8 = (s: string | undefined) => (s ? Buffer.byteLength(s, 'utf8') : 0);

/**
 * UTF-8 bytes of a Publish request as SNS counts them: the message and each attribute's name, data type
 * and value. The subject is counted too, to be safe (it is at most 100 characters).
 */
export const publishedBytes = (p: PublishedParts): number =>
  utf8(p.Subject) +
  utf8(p.Message) +
  Object.entries(p.MessageAttributes ?? {}).reduce(
    (sum, [name, a]) => sum + utf8(name) + utf8(a.DataType) + utf8(a.StringValue),
    0,
  );

/**
 * The first `n` items rendered, then one line counting the rest: "... and 990 more <what> (full report)".
 * Pure; the caller orders the items (failures first, oldest first).
 */
export const topLines = <T>(
  items: readonly T[],
  render: (t: T) => string,
  what: string,
  n = TOP_N,
): string[] =>
  items.length > n
    ? [...items.slice(0, n).map(render), `... and ${items.length - n} more ${what} (in the full report)`]
    : items.map(render);

/**
 * A notification that fits the budget once published: the capability's summary normally does, this is the
 * last guard (long error texts, a new message that forgot to summarise). It drops the JSON details first,
 * then the lines from the end (the most important come first), and says so in the message.
 */
export const fitToBudget = (
  n: Notification,
  size: (n: Notification) => number,
  budget = MESSAGE_BUDGET,
): Notification => {
  if (size(n) <= budget) return n;
  const note = (kept: number) =>
    `... message cut to fit ${budget} bytes: ${n.lines.length - kept} more lines and the JSON details left out`;
  const { data: _details, ...rest } = n;
  const cut = (kept: number): Notification => ({
    ...rest,
    lines: [...n.lines.slice(0, kept).map((l) => clip(l, LINE_MAX)), note(kept)],
  });
  if (size(cut(n.lines.length)) <= budget) return cut(n.lines.length);
  // Binary search the number of lines kept: the largest prefix that fits.
  let lo = 0;
  let hi = n.lines.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(cut(mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
};
