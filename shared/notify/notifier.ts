import type { Severity } from '../config/schema.js';
import type { Outcome } from '../model.js';
import { type Place, placeLabel } from '../fleet/place.js';
import { failedOutcome } from '../outcomes.js';

/**
 * A condition a pager should open or close: `trigger` when steward finds it, `resolve` when steward reports
 * it cleared. The key names the condition (`<database>:<backup|dr|drill>`, `cost:<month>:<threshold>`);
 * the pager route deduplicates on it per stage.
 */
export interface AlertSignal {
  key: string;
  action: 'trigger' | 'resolve';
  /** How bad the condition is (a resolve repeats the severity it was opened with, or `info`). */
  severity: Severity;
  /** One line, the pager's title. */
  summary: string;
  /** The resource it is about (database id, threshold), for the pager's `component`. */
  resource?: string;
}

/** A link for people: the report, the console. */
export interface Link {
  text: string;
  href: string;
}

/** One message for humans and machines: short subject, readable body, JSON details. */
export interface Notification {
  severity: Severity;
  /** Capability that speaks: backup, retention, drill, cost, scaling, report. */
  capability: string;
  subject: string;
  /** Readable lines, most important first. */
  lines: string[];
  /** Machine-readable details, appended as JSON. */
  data?: unknown;
  /** What to do next, one step each (chat shows them as next steps). */
  nextSteps?: string[];
  links?: Link[];
  /** Conditions to open or close on the pager (critical ones by default). */
  alerts?: AlertSignal[];
  /** The account and region the run acted in: every database the message names lives there. */
  place?: Place;
}

/** Port: deliver one notification. */
export interface Notifier {
  send(n: Notification): Promise<void>;
}

// SNS subjects: printable ASCII (older API docs), no line breaks, at most 100 characters.
const SUBJECT_MAX = 100;
// What steward writes outside ASCII, spelled in ASCII rather than dropped (DESIGN.md: → becomes ->).
const ASCII: Record<string, string> = {
  '→': '->',
  '←': '<-',
  '—': '-',
  '–': '-',
  '…': '...',
  '✓': 'ok',
  '✗': 'x',
  '×': 'x',
  '≤': '<=',
  '≥': '>=',
  '“': '"',
  '”': '"',
  '‘': "'",
  '’': "'",
  '•': '*',
};

const PRINTABLE = /^[\x20-\x7e]*$/;

/** A subject SNS accepts: ASCII (accents stripped, arrows spelled out), one line, at most 100 characters. */
export const snsSubject = (raw: string): string => {
  // Printable ASCII already (nearly every subject): nothing to replace, and no Unicode normalization to load.
  const ascii = PRINTABLE.test(raw)
    ? raw
    : raw
        .replace(/[\r\n\t]+/g, ' ')
        .replace(/[→←—–…✓✗×≤≥“”‘’•]/g, (c) => ASCII[c]!)
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .replace(/[^\x20-\x7e]/g, '');
  return ascii.length > SUBJECT_MAX ? `${ascii.slice(0, SUBJECT_MAX - 3)}...` : ascii;
};

/**
 * Who speaks and where, for subjects and titles: `INFO backup`, or with the run's place
 * `INFO backup 111122223333/eu-west-1`. The place comes before the message's own subject, so a subject cut
 * at SNS's 100 characters loses the end of the summary (the body has it whole), never the account.
 */
export const speaker = (n: Pick<Notification, 'severity' | 'capability' | 'place'>): string =>
  `${n.severity.toUpperCase()} ${n.capability}${n.place ? ` ${placeLabel(n.place)}` : ''}`;

/** The body's line that says where every database the message names lives. */
export const whereLine = (p: Place): string =>
  `${p.account ? `Account ${p.account}, region` : 'Region'} ${p.region}: every database named here is there.`;

/**
 * A notifier that says where its run acted: each message carries `place`. In a fleet, each pager signal's
 * key and resource name it too, so the same database name in two accounts is two incidents, not one; a
 * single-account stage keeps its keys (an incident opened before an upgrade still resolves).
 */
export const notifierAt = (inner: Notifier, place: Place): Notifier => ({
  send: (n) =>
    inner.send({
      ...n,
      place: n.place ?? place,
      ...(n.alerts && place.fleet
        ? {
            alerts: n.alerts.map((a) => ({
              ...a,
              key: `${a.key}@${placeLabel(place)}`,
              ...(a.resource ? { resource: `${a.resource} (${placeLabel(place)})` } : {}),
            })),
          }
        : {}),
    }),
});

/** Render a notification into an SNS subject and its readable body (email). Pure. */
export const renderNotification = (n: Notification, stage: string): { subject: string; message: string } => {
  const subject = snsSubject(`[steward ${stage}] ${speaker(n)}: ${n.subject}`);
  const body = [n.subject, ...(n.place ? [whereLine(n.place)] : []), '', ...n.lines];
  if (n.nextSteps?.length) body.push('', 'Next steps:', ...n.nextSteps.map((s) => `- ${s}`));
  if (n.links?.length) body.push('', ...n.links.map((l) => `${l.text}: ${l.href}`));
  if (n.data !== undefined) body.push('', '--- details (JSON) ---', JSON.stringify(n.data, null, 2));
  return { subject, message: body.join('\n') };
};

/**
 * Deliver through every route (SNS topics, the pager). All are tried; the first failure is thrown after
 * the others ran, so one broken route does not silence the rest.
 */
export const fanOut = (...routes: Notifier[]): Notifier => ({
  send: async (n) => {
    const results = await Promise.allSettled(routes.map((r) => r.send(n)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  },
});

/**
 * Send one notification; a failure becomes a failed outcome (empty list on success) instead of an exception,
 * so the run still reports everything else and then fails as a whole.
 */
export const sendReported = async (notifier: Notifier, n: Notification): Promise<Outcome[]> => {
  try {
    await notifier.send(n);
    return [];
  } catch (e) {
    return [failedOutcome({ resource: `${n.severity} notification`, action: 'notify' }, e)];
  }
};

/** Notifier that keeps messages in memory (tests, CLI dry runs, the local sandbox). */
export const memoryNotifier = (): Notifier & { sent: Notification[] } => {
  const sent: Notification[] = [];
  return { sent, send: async (n) => void sent.push(n) };
};
