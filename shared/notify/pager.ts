import type { Severity } from '../config/schema.js';
import { clip } from '../errors.js';
import { placeLabel } from '../fleet/place.js';
import { bytes, cut } from './formats.js';
import type { AlertSignal, Notification } from './notifier.js';

// The PagerDuty form of a notification (formats.ts has the other two): only the pager route sends it, and
// it is imported with that route (shared/runtime.ts), at the first notification that has a signal to page.

// PagerDuty Events API v2: summary ≤ 1024 characters, dedup_key ≤ 255.
// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
const PD_SUMMARY_MAX = 1024;
const PD_DEDUP_MAX = 255;
/**
 * What steward allows one PagerDuty event, in UTF-8 bytes of its JSON. PagerDuty takes up to 512 KB per
 * event (Events API v2 overview, "Size Limits"), but the pager route hands each event to EventBridge, whose
 * PutEvents entries must total under 256 KB per request: at 16 KiB each, a request of ten fits with room.
 */
export const PD_EVENT_MAX_BYTES = 16 * 1024;
// Short identifiers (component, group, class), a detail line, a link: each cut, the rest is in the report.
const PD_FIELD_MAX = 255;
const PD_LINE_MAX = 500;
const PD_LINK_MAX = 2000;
const PD_DETAIL_LINES = 20;

/** A PagerDuty Events API v2 event without its routing key (the EventBridge connection adds it). */
export type PagerDutyEvent =
  | {
      event_action: 'trigger';
      dedup_key: string;
      payload: {
        summary: string;
        source: string;
        severity: 'critical' | 'error' | 'warning' | 'info';
        component?: string;
        group?: string;
        class?: string;
        custom_details?: Record<string, unknown>;
      };
      links?: { href: string; text: string }[];
      client: string;
    }
  | { event_action: 'resolve'; dedup_key: string };

// FNV-1a, 32 bit: a short stable id for a subject.
const fnv = (s: string): string => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
};

/**
 * The signals a notification carries: its own, or for a critical one without any, one trigger keyed by the
 * capability and subject (so the same problem is one incident, not one per run).
 */
export const alertSignals = (n: Notification): AlertSignal[] =>
  n.alerts ??
  (n.severity === 'critical'
    ? [
        {
          // In a fleet the same failure in two accounts is two incidents.
          key: `${n.capability}:${fnv(n.subject)}${n.place?.fleet ? `@${placeLabel(n.place)}` : ''}`,
          action: 'trigger',
          severity: 'critical',
          summary: n.subject,
        },
      ]
    : []);

/** The PD dedup key of a signal: stage-scoped, so two stages on one PagerDuty service never collide. */
export const dedupKey = (stage: string, key: string): string => cut(`steward/${stage}/${key}`, PD_DEDUP_MAX);

/**
 * The PagerDuty events of a notification: a trigger for each signal at one of `severities` (the runbook
 * pages on critical), and every resolve (PagerDuty drops a resolve of a key that has no open alert).
 */
export const pagerDutyEvents = (
  n: Notification,
  stage: string,
  severities: readonly Severity[] = ['critical'],
): PagerDutyEvent[] =>
  alertSignals(n).flatMap((a): PagerDutyEvent[] => {
    const dedup_key = dedupKey(stage, a.key);
    if (a.action === 'resolve') return [{ event_action: 'resolve', dedup_key }];
    if (!severities.includes(a.severity)) return [];
    // A cut URL is a broken link: a link too long to send is left out (the message keeps it).
    const links = (n.links ?? [])
      .filter((l) => l.href.length <= PD_LINK_MAX)
      .slice(0, 5)
      .map((l) => ({ href: l.href, text: cut(l.text, PD_FIELD_MAX) }));
    const trigger = (lines: readonly string[], withLinks = true): PagerDutyEvent => ({
      event_action: 'trigger',
      dedup_key,
      payload: {
        summary: cut(
          `[steward ${stage}]${n.place ? ` ${placeLabel(n.place)}` : ''} ${a.summary}`,
          PD_SUMMARY_MAX,
        ),
        source: cut(`steward-${stage}`, PD_FIELD_MAX),
        severity: a.severity,
        ...(a.resource ? { component: cut(a.resource, PD_FIELD_MAX) } : {}),
        group: cut(stage, PD_FIELD_MAX),
        class: cut(n.capability, PD_FIELD_MAX),
        custom_details: {
          subject: cut(n.subject, PD_SUMMARY_MAX),
          ...(n.place
            ? { region: n.place.region, ...(n.place.account ? { account: n.place.account } : {}) }
            : {}),
          details: lines.map((l) => clip(l, PD_LINE_MAX)).join('\n'),
        },
      },
      ...(withLinks && links.length ? { links } : {}),
      client: 'steward',
    });
    // Each field is cut; multi-byte text can still exceed the budget, so drop detail lines until it fits.
    let kept = Math.min(n.lines.length, PD_DETAIL_LINES);
    let event = trigger(n.lines.slice(0, kept));
    while (kept > 0 && bytes(JSON.stringify(event)) > PD_EVENT_MAX_BYTES)
      event = trigger(n.lines.slice(0, --kept));
    // Without lines, only five links of 2 000 characters can still be too many: the summary bounds the rest.
    return [bytes(JSON.stringify(event)) > PD_EVENT_MAX_BYTES ? trigger([], false) : event];
  });
