import * as v from '../valid.js';
import { EventShapeError, formatIssues } from '../errors.js';

const Month = /* @__PURE__ */ v.onFirstUse(() =>
  v.string().check(v.regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month such as 2026-11')),
);

/**
 * What the report function accepts. The monthly schedule sends
 * `{"action":"evidence","scheduledTime":"<aws.scheduler.scheduled-time>"}` (the month before that time);
 * on demand, `{"action":"evidence","month":"2026-11"}`. The status schedule sends `{"action":"status-check"}`.
 */
export const ReportRequest = /* @__PURE__ */ v.onFirstUse(() =>
  v.discriminatedUnion('action', [
    v.strictObject({
      action: v.literal('evidence'),
      month: v.optional(Month),
      scheduledTime: v.optional(v.iso.datetime({ offset: true })),
      /** Build and report, but write nothing to the bucket. */
      dryRun: v.optional(v.boolean()),
    }),
    v.strictObject({
      action: v.literal('status-check'),
      scheduledTime: v.optional(v.iso.datetime({ offset: true })),
      /** Judge and report, but neither notify nor remember. */
      dryRun: v.optional(v.boolean()),
    }),
  ]),
);
export type ReportRequest = v.infer<typeof ReportRequest>;

/** Parse a report trigger; throws EventShapeError naming every bad field path. */
export const parseReportRequest = (raw: unknown): ReportRequest => {
  const r = ReportRequest.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid report request', formatIssues(r.error.issues));
  return r.data;
};
