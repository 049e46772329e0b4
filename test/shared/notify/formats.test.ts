import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHAT_DESCRIPTION_MAX,
  chatNotification,
  SNS_MESSAGE_MAX_BYTES,
  snsMessage,
} from '../../../shared/notify/formats.js';
import { pagerDutyEvents, PD_EVENT_MAX_BYTES } from '../../../shared/notify/pager.js';
import { type Notification, renderNotification } from '../../../shared/notify/notifier.js';
import { conditionsNotification, diffConditions } from '../../../shared/report/conditions.js';
import type { DatabaseStatus, EstateStatus } from '../../../shared/report/model.js';

/**
 * Each route's form checked against the format its receiver publishes: Amazon Q Developer in chat
 * applications' custom notification, PagerDuty's Events API v2 request body (with the routing key the
 * EventBridge connection adds), and SNS's per-protocol message within its 256 KB limit.
 */

const schema = (name: string): object =>
  JSON.parse(readFileSync(new URL(`./schemas/${name}.schema.json`, import.meta.url), 'utf8')) as object;

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
ajv.addFormat('uri', (s: string) => URL.canParse(s));
ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
const chatSchema = ajv.compile(schema('amazon-q-custom-notification'));
const pagerSchema = ajv.compile(schema('pagerduty-events-v2'));

const valid = (v: ValidateFunction, doc: unknown): string[] =>
  v(doc) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

// The EventBridge connection adds the routing key to the body (infra/pager.ts); a stand-in here.
const ROUTING_KEY = '0123456789abcdef0123456789abcdef';
const asSent = (e: object) => ({ ...e, routing_key: ROUTING_KEY });

const REPORT =
  'https://s3.console.aws.amazon.com/s3/object/steward-prod-111122223333-reports?region=eu-west-1&prefix=drills%2Forders-db%2Fr.json';

const drillFailed: Notification = {
  severity: 'critical',
  capability: 'drill',
  subject: 'Drill FAILED: orders-db at verify',
  lines: ['Verdict: row count 0 < 1 in transactions', 'RTO 41m (target 60m), RPO 3h (target 24h)'],
  nextSteps: ['steward drills: the drill and its checks'],
  links: [{ text: 'Drill report', href: REPORT }],
  alerts: [
    {
      key: 'orders-db:drill',
      action: 'trigger',
      severity: 'critical',
      summary: 'row count 0 < 1',
      resource: 'orders-db',
    },
  ],
  data: { drillId: 'd-1', passed: false },
};

const db = (id: string, health: 'OK' | 'LATE' | 'FAILING', reason = ''): DatabaseStatus =>
  ({
    id,
    kind: 'rds-instance',
    engine: 'postgres',
    status: 'available',
    policy: 'daily',
    health,
    reasons: reason ? [reason] : [],
    aspects: health === 'OK' ? [] : [{ aspect: 'backup', health, reason }],
  }) as unknown as DatabaseStatus;

const status = (databases: DatabaseStatus[]): EstateStatus => ({
  type: 'steward-status',
  version: 1,
  stage: 'prod',
  region: 'eu-west-1',
  at: '2026-11-23T06:00:00.000Z',
  counts: { OK: 0, LATE: 0, FAILING: 0, UNPROTECTED: 0 },
  databases,
  notes: [],
});

describe('chat form (Amazon Q Developer custom notification)', () => {
  it('matches the published event schema, with Slack markdown links and next steps', () => {
    // Act
    const chat = chatNotification(drillFailed, 'prod', 'slack');
    // Assert
    expect(valid(chatSchema, chat)).toEqual([]);
    expect(chat.content.title).toBe(
      ':rotating_light: [steward prod] CRITICAL drill: Drill FAILED: orders-db at verify',
    );
    expect(chat.content.description).toContain(`<${REPORT}|Drill report>`);
    expect(chat.content.nextSteps).toEqual(['steward drills: the drill and its checks']);
    expect(chat.metadata?.relatedResources).toEqual(['orders-db']);
  });

  it('writes Teams links in its markdown', () => {
    const chat = chatNotification(drillFailed, 'prod', 'teams');
    expect(valid(chatSchema, chat)).toEqual([]);
    expect(chat.content.description).toContain(`[Drill report](${REPORT})`);
    expect(chat.metadata?.summary).toBe('**CRITICAL** Drill FAILED: orders-db at verify');
  });

  it('keeps the description short and says what it left out', () => {
    // Prepare
    const lines = Array.from({ length: 500 }, (_, i) => `orders-db-${i} LATE: newest snapshot 30h old`);
    // Act
    const chat = chatNotification({ ...drillFailed, lines }, 'prod');
    // Assert
    expect(chat.content.description.length).toBeLessThanOrEqual(CHAT_DESCRIPTION_MAX);
    expect(chat.content.description).toMatch(/… \d+ more lines in the email and the report/);
  });
});

describe('SNS per-protocol message', () => {
  it('gives email its readable body and HTTPS subscribers (Amazon Q) the chat form', () => {
    // Act
    const m = snsMessage(drillFailed, 'prod');
    // Assert
    expect(m.MessageStructure).toBe('json');
    const parsed = JSON.parse(m.Message) as Record<string, string>;
    expect(Object.keys(parsed).sort()).toEqual(['default', 'https']);
    expect(parsed.default).toBe(renderNotification(drillFailed, 'prod').message);
    expect(parsed.default).toContain('Next steps:\n- steward drills: the drill and its checks');
    expect(parsed.default).toContain(`Drill report: ${REPORT}`);
    expect(valid(chatSchema, JSON.parse(parsed.https!))).toEqual([]);
    expect(m.Subject).toBe('[steward prod] CRITICAL drill: Drill FAILED: orders-db at verify');
  });

  it('stays within 256 KB, dropping the JSON details first and then lines, and saying so', () => {
    // Prepare
    const huge: Notification = {
      severity: 'warning',
      capability: 'report',
      subject: 'Many databases LATE',
      lines: Array.from({ length: 6000 }, (_, i) => `- LATE db-${i} (backup): newest snapshot 30h old`),
      data: { blob: 'x'.repeat(300_000) },
    };
    // Act
    const m = snsMessage(huge, 'prod');
    // Assert
    expect(Buffer.byteLength(m.Message)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    const body = (JSON.parse(m.Message) as { default: string }).default;
    expect(body).not.toContain('--- details (JSON) ---');
    expect(body).toMatch(/more lines left out \(SNS limit of 256 KB\)/);
  });

  it('spells the subject in ASCII rather than dropping characters', () => {
    const m = snsMessage(
      {
        severity: 'info',
        capability: 'scaling',
        subject: 'orders-db db.r6g.large → db.r6g.xlarge',
        lines: [],
      },
      'prod',
    );
    expect(m.Subject).toBe('[steward prod] INFO scaling: orders-db db.r6g.large -> db.r6g.xlarge');
  });

  it('holds for any notification: valid chat form, bounded message, subject SNS accepts', () => {
    const arb = fc.record({
      severity: fc.constantFrom('critical', 'warning', 'info') as fc.Arbitrary<Notification['severity']>,
      capability: fc.constantFrom('backup', 'drill', 'report', 'cost', 'scaling'),
      subject: fc.string({ minLength: 1, maxLength: 300 }),
      lines: fc.array(fc.string({ maxLength: 400 }), { maxLength: 200 }),
      nextSteps: fc.array(fc.string({ minLength: 1, maxLength: 400 }), { maxLength: 4 }),
      links: fc.array(fc.record({ text: fc.string({ maxLength: 40 }), href: fc.webUrl() }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(arb, fc.constantFrom('slack', 'teams') as fc.Arbitrary<'slack' | 'teams'>, (n, flavour) => {
        const m = snsMessage(n, 'prod', flavour);
        expect(Buffer.byteLength(m.Message)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
        expect(m.Subject).toMatch(/^[\x20-\x7e]{1,100}$/);
        const https = JSON.parse((JSON.parse(m.Message) as { https: string }).https) as unknown;
        expect(valid(chatSchema, https)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

describe('PagerDuty form (Events API v2)', () => {
  it('triggers with a stage-scoped dedup key, and the resolve of the same condition closes it', () => {
    // Prepare: the status check opens orders-db's backup condition, a later check finds it OK again.
    const opened = diffConditions([], status([db('orders-db', 'FAILING', 'no snapshot for 52h')]));
    const raise = conditionsNotification(
      opened,
      status([db('orders-db', 'FAILING', 'no snapshot for 52h')]),
    )!;
    const cleared = diffConditions(opened.open, status([db('orders-db', 'OK')]));
    const clear = conditionsNotification(cleared, status([db('orders-db', 'OK')]))!;
    // Act
    const [trigger] = pagerDutyEvents(raise, 'prod');
    const [resolve] = pagerDutyEvents(clear, 'prod');
    // Assert
    expect(valid(pagerSchema, asSent(trigger!))).toEqual([]);
    expect(valid(pagerSchema, asSent(resolve!))).toEqual([]);
    expect(trigger).toMatchObject({
      event_action: 'trigger',
      dedup_key: 'steward/prod/rds-instance:orders-db:backup',
      payload: {
        severity: 'critical',
        source: 'steward-prod',
        component: 'orders-db (rds-instance)',
        class: 'report',
      },
    });
    expect(resolve).toEqual({ event_action: 'resolve', dedup_key: trigger!.dedup_key });
  });

  it('pages only at the configured severities, and sends every resolve', () => {
    // Prepare: LATE is a warning; the runbook pages on critical only.
    const late = diffConditions([], status([db('orders-db', 'LATE', 'snapshot 30h old')]));
    const n = conditionsNotification(late, status([db('orders-db', 'LATE', 'snapshot 30h old')]))!;
    // Act / Assert
    expect(pagerDutyEvents(n, 'prod')).toEqual([]);
    expect(pagerDutyEvents(n, 'prod', ['critical', 'warning'])).toHaveLength(1);
    const cleared = diffConditions(late.open, status([db('orders-db', 'OK')]));
    expect(
      pagerDutyEvents(conditionsNotification(cleared, status([db('orders-db', 'OK')]))!, 'prod'),
    ).toEqual([{ event_action: 'resolve', dedup_key: 'steward/prod/rds-instance:orders-db:backup' }]);
  });

  it('keys a critical notification without signals by its subject, so a repeat is one incident', () => {
    const n: Notification = { severity: 'critical', capability: 'backup', subject: 'Quota full', lines: [] };
    const [a] = pagerDutyEvents(n, 'prod');
    const [b] = pagerDutyEvents({ ...n, lines: ['another run'] }, 'prod');
    expect(valid(pagerSchema, asSent(a!))).toEqual([]);
    expect(a!.dedup_key).toMatch(/^steward\/prod\/backup:[0-9a-f]{8}$/);
    expect(b!.dedup_key).toBe(a!.dedup_key);
    expect(pagerDutyEvents({ ...n, severity: 'info' }, 'prod')).toEqual([]);
  });

  it('holds for any signal: each event matches the published schema and its limits', () => {
    const signal = fc.record({
      key: fc.string({ minLength: 1, maxLength: 400 }),
      action: fc.constantFrom('trigger', 'resolve') as fc.Arbitrary<'trigger' | 'resolve'>,
      severity: fc.constantFrom('critical', 'warning', 'info') as fc.Arbitrary<Notification['severity']>,
      summary: fc.string({ minLength: 1, maxLength: 2000 }),
      resource: fc.option(fc.string({ minLength: 1, maxLength: 60 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(signal, { minLength: 1, maxLength: 5 }), (alerts) => {
        const n: Notification = {
          ...drillFailed,
          alerts: alerts.map(({ resource, ...a }) => (resource ? { ...a, resource } : a)),
        };
        for (const e of pagerDutyEvents(n, 'prod', ['critical', 'warning', 'info']))
          expect(valid(pagerSchema, asSent(e))).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it('an event fits its byte budget whatever the text: multi-byte, long lines, long names and links', () => {
    const text = (max: number) => fc.string({ unit: 'grapheme', maxLength: max });
    fc.assert(
      fc.property(
        fc.record({
          subject: text(3000),
          lines: fc.array(text(3000), { maxLength: 40 }),
          resource: text(3000),
          links: fc.array(fc.record({ text: text(500), href: text(2500) }), { maxLength: 8 }),
        }),
        ({ subject, lines, resource, links }) => {
          const n: Notification = {
            severity: 'critical',
            capability: 'drill',
            subject,
            lines,
            links,
            alerts: [
              {
                key: 'k',
                action: 'trigger',
                severity: 'critical',
                summary: subject || 's',
                resource: resource || 'r',
              },
            ],
          };
          for (const e of pagerDutyEvents(n, 'prod'))
            expect(Buffer.byteLength(JSON.stringify(e), 'utf8')).toBeLessThanOrEqual(PD_EVENT_MAX_BYTES);
        },
      ),
      { numRuns: 60 },
    );
  });
});
