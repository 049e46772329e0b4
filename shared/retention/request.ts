import * as v from '../valid.js';
import { EventShapeError, formatIssues } from '../errors.js';
import { Region } from '../config/parts.js';

/**
 * What the retention function accepts. EventBridge Scheduler sends
 * `{"action":"retention","scheduledTime":"<aws.scheduler.scheduled-time>"}`; the CLI may add `dryRun`.
 * Strict: a misspelt `dry_run` must fail loudly, not run for real.
 */
export const RetentionRequest = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('retention'),
    scheduledTime: v.optional(v.iso.datetime({ offset: true })),
    /** Plan and report only. Can add dry run to a run, never remove the stage's or function's. */
    dryRun: v.optional(v.boolean()),
  }),
);
export type RetentionRequest = v.infer<typeof RetentionRequest>;

/** Parse a retention trigger; throws EventShapeError naming every bad field path. */
export const parseRetentionRequest = (raw: unknown): RetentionRequest => {
  const o = raw as { source?: unknown; 'detail-type'?: unknown } | null;
  if (o && typeof o === 'object' && o.source === 'aws.events' && o['detail-type'] === 'Scheduled Event')
    throw new EventShapeError('A classic EventBridge "Scheduled Event" carries no retention request', [
      'detail-type: "Scheduled Event" is not a retention request; send {"action":"retention","scheduledTime":"<aws.scheduler.scheduled-time>"} (what the schedule steward deploys sends): set the rule target\'s input to that JSON',
    ]);
  const r = RetentionRequest.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid retention request', formatIssues(r.error.issues));
  return r.data;
};

/**
 * The backup vault's retention in one vault region (config `fleet.vault`): one schedule per vault region
 * sends `{"action":"vault-retention","region":"<vault region>","scheduledTime":"..."}`; the CLI may add `dryRun`.
 */
export const VaultRetentionRequest = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('vault-retention'),
    region: Region,
    scheduledTime: v.optional(v.iso.datetime({ offset: true })),
    dryRun: v.optional(v.boolean()),
  }),
);
export type VaultRetentionRequest = v.infer<typeof VaultRetentionRequest>;

/** Whether an event asks for the vault's retention (then parseVaultRetentionRequest), not the sweep. */
export const isVaultRetentionRequest = (raw: unknown): boolean =>
  (raw as { action?: unknown } | null)?.action === 'vault-retention';

/** Parse a vault retention trigger; throws EventShapeError naming every bad field path. */
export const parseVaultRetentionRequest = (raw: unknown): VaultRetentionRequest => {
  const r = VaultRetentionRequest.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid vault retention request', formatIssues(r.error.issues));
  return r.data;
};
