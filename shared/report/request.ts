import * as z from '../zod.js';
import { EventShapeError, formatIssues } from '../errors.js';

const Month = /* @__PURE__ */ z.onFirstUse(() =>
  z.string().check(z.regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month such as 2026-11')),
);

/**
 * What the report function accepts. The monthly schedule sends
 * `{"action":"evidence","scheduledTime":"<aws.scheduler.scheduled-time>"}` (the month before that time);
 * on demand, `{"action":"evidence","month":"2026-11"}`. The status schedule sends `{"action":"status-check"}`.
 */
export const ReportRequest = /* @__PURE__ */ z.onFirstUse(() =>
  z.discriminatedUnion('action', [
    z.strictObject({
      action: z.literal('evidence'),
      month: z.optional(Month),
      scheduledTime: z.optional(z.iso.datetime({ offset: true })),
      /** Build and report, but write nothing to the bucket. */
      dryRun: z.optional(z.boolean()),
    }),
    z.strictObject({
      action: z.literal('status-check'),
      scheduledTime: z.optional(z.iso.datetime({ offset: true })),
      /** Judge and report, but neither notify nor remember. */
      dryRun: z.optional(z.boolean()),
    }),
  ]),
);
export type ReportRequest = z.infer<typeof ReportRequest>;

/** Parse a report trigger; throws EventShapeError naming every bad field path. */
export const parseReportRequest = (raw: unknown): ReportRequest => {
  const r = ReportRequest.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid report request', formatIssues(r.error.issues));
  return r.data;
};
