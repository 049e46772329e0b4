import * as z from '../zod.js';
import { ResourceKind } from '../config/parts.js';
import { EventShapeError, formatIssues } from '../errors.js';
import type { Snapshot } from '../model.js';

/** One snapshot of an inventory file (`steward plan retention --inventory`), shaped like `Snapshot`. */
export const SnapshotRecord = z.object({
  kind: ResourceKind,
  id: z.string().check(z.minLength(1)),
  arn: z.string(),
  region: z.string().check(z.minLength(1)),
  sourceId: z.string(),
  createdAt: z.optional(z.string()),
  status: z.string().check(z.minLength(1)),
  type: z.enum(['manual', 'automated', 'shared', 'public', 'awsbackup']),
  tags: z.record(z.string(), z.string()),
  encrypted: z.optional(z.boolean()),
  sourceRegion: z.optional(z.string()),
  copiedAt: z.optional(z.string()),
}) satisfies z.ZodMiniType<Snapshot>;

/** A snapshot inventory: each (region, kind, id) once, as the retention engine requires. */
export const SnapshotInventory = z.array(SnapshotRecord).check(
  z.superRefine((snaps, ctx) => {
    const seen = new Map<string, number>();
    snaps.forEach((s, i) => {
      const key = `${s.region}/${s.kind}/${s.id}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `repeats ${key} from entry ${first}` });
    });
  }),
);

/** Validate an inventory file's content; throws EventShapeError naming every bad entry and field. */
export const parseInventory = (raw: unknown, source: string): Snapshot[] => {
  const r = SnapshotInventory.safeParse(raw);
  if (!r.success)
    throw new EventShapeError(`Invalid snapshot inventory (${source})`, formatIssues(r.error.issues));
  return r.data;
};
