import type { Severity } from '../config/schema.js';
import type { Notification } from './notifier.js';
import { renderNotification, speaker, whereLine } from './notifier.js';

/**
 * The three forms of one notification, one per route of the runbook: a readable subject and body (email,
 * and every SNS protocol without its own form), the Amazon Q Developer in chat applications custom
 * notification (Slack, Teams), and PagerDuty Events API v2 events (pager.ts: the pager route imports it
 * when it first pages). Pure.
 */

// SNS: a message (the whole JSON document of a per-protocol message) is at most 256 KiB.
// https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
export const SNS_MESSAGE_MAX_BYTES = 256 * 1024;
// Room left for what the per-protocol JSON envelope adds around the two forms.
const ENVELOPE_BYTES = 1024;
// Chat: a short description (Slack shows a section block of up to 3 000 characters; Teams cuts long cards).
export const CHAT_DESCRIPTION_MAX = 3000;
const CHAT_TITLE_MAX = 250;
/** The pager route's events on the default bus: the stage's rule matches these. */
export const PAGER_SOURCE = 'steward';
export const PAGER_DETAIL_TYPE = 'Steward Pager Event';

/** Chat markdown flavour: Amazon Q renders `client-markdown` in the target platform's own markdown. */
export type ChatMarkdown = 'slack' | 'teams';

/** Amazon Q Developer in chat applications custom notification (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html). */
export interface ChatNotification {
  version: '1.0';
  source: 'custom';
  id?: string;
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps?: string[];
    keywords?: string[];
  };
  metadata?: {
    threadId?: string;
    summary?: string;
    eventType?: string;
    relatedResources?: string[];
    additionalContext?: Record<string, string>;
    enableCustomActions?: boolean;
  };
}

const EMOJI: Record<Severity, string> = {
  critical: ':rotating_light:',
  warning: ':warning:',
  info: ':white_check_mark:',
};

export const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

export const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

const link = (flavour: ChatMarkdown, text: string, href: string) =>
  flavour === 'slack'
    ? `<${href}|${text.replace(/[<>|]/g, '')}>`
    : `[${text.replace(/[[\]]/g, '')}](${href})`;
const bold = (flavour: ChatMarkdown, text: string) => (flavour === 'slack' ? `*${text}*` : `**${text}**`);

/** The chat form: title, a short description in the platform's markdown, next steps, links. */
export const chatNotification = (
  n: Notification,
  stage: string,
  flavour: ChatMarkdown = 'slack',
): ChatNotification => {
  const title = cut(`${EMOJI[n.severity]} [steward ${stage}] ${speaker(n)}: ${n.subject}`, CHAT_TITLE_MAX);
  const lines = [...(n.place ? [whereLine(n.place)] : []), ...n.lines].filter(
    (l, i, a) => l !== '' || (i > 0 && a[i - 1] !== ''),
  );
  const body: string[] = [];
  let size = 0;
  for (const [i, l] of lines.entries()) {
    // Leave room for the "more" note.
    if (size + l.length + 1 > CHAT_DESCRIPTION_MAX - 60) {
      body.push(`… ${lines.length - i} more lines in the email and the report`);
      break;
    }
    body.push(l);
    size += l.length + 1;
  }
  const links = (n.links ?? []).map((l) => link(flavour, l.text, l.href));
  // The description is the one required field: a notification with no lines says its subject.
  const description =
    [...body, ...(links.length ? ['', links.join(' · ')] : [])].join('\n').trim() || n.subject.trim() || '-';
  const resources = [...new Set((n.alerts ?? []).flatMap((a) => (a.resource ? [a.resource] : [])))];
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title,
      description: cut(description, CHAT_DESCRIPTION_MAX),
      ...(n.nextSteps?.length ? { nextSteps: n.nextSteps.map((s) => cut(s, 300)) } : {}),
      keywords: [stage, n.severity, n.capability],
    },
    metadata: {
      // One thread per capability and stage keeps a channel readable.
      threadId: `steward-${stage}-${n.capability}`,
      summary: cut(`${bold(flavour, n.severity.toUpperCase())} ${n.subject}`, 300),
      eventType: `steward.${n.capability}`,
      ...(resources.length ? { relatedResources: resources.slice(0, 20) } : {}),
      additionalContext: {
        stage,
        severity: n.severity,
        capability: n.capability,
        ...(n.place
          ? { region: n.place.region, ...(n.place.account ? { account: n.place.account } : {}) }
          : {}),
      },
      enableCustomActions: false,
    },
  };
};

/** An SNS Publish of one notification: per-protocol JSON, email keeps its readable body, HTTPS gets chat. */
export interface SnsMessage {
  Subject: string;
  Message: string;
  MessageStructure: 'json';
}

/**
 * The per-protocol message: `default` (email, email-json, SQS, Lambda) is the readable body, `https` is the
 * chat form (Amazon Q subscribes to a topic over HTTPS). Bounded to SNS's 256 KiB: the JSON details go first,
 * then body lines from the end, each time saying so.
 */
export const snsMessage = (n: Notification, stage: string, flavour: ChatMarkdown = 'slack'): SnsMessage => {
  const chat = JSON.stringify(chatNotification(n, stage, flavour));
  const build = (m: Notification) => {
    const { subject, message } = renderNotification(m, stage);
    return { subject, json: JSON.stringify({ default: message, https: chat }) };
  };
  const limit = SNS_MESSAGE_MAX_BYTES - ENVELOPE_BYTES;
  let m = n;
  let built = build(m);
  if (bytes(built.json) > limit && m.data !== undefined) {
    m = {
      ...m,
      data: undefined,
      lines: [...m.lines, '', '(details left out: the message would exceed the SNS limit of 256 KB)'],
    };
    built = build(m);
  }
  while (bytes(built.json) > limit && m.lines.length > 1) {
    const keep = Math.max(1, Math.floor(m.lines.length * 0.8));
    const dropped = n.lines.length - keep;
    m = {
      ...m,
      lines: [...n.lines.slice(0, keep), `… ${dropped} more lines left out (SNS limit of 256 KB)`],
    };
    built = build(m);
  }
  return { Subject: built.subject, Message: built.json, MessageStructure: 'json' };
};
