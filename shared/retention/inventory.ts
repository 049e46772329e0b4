import * as z from '../zod.js';
import * as parts from '../config/parts.js';
import { zodOf } from '../config/from-valid.js';
import { EventShapeError, formatIssues } from '../errors.js';
import type { Database, Snapshot } from '../model.js';

/** One snapshot of an inventory file (`steward plan retention --inventory`), shaped like `Snapshot`. */
export const SnapshotRecord = z.object({
  kind: zodOf(parts.ResourceKind),
  id: z.string().check(z.minLength(1)),
  arn: z.string(),
  region: z.string().check(z.minLength(1)),
  sourceId: z.string(),
  sourceResourceId: z.optional(z.string()),
  sourceCreatedAt: z.optional(z.string()),
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

/**
 * One database of an inventory file (`steward plan backup --inventory`), shaped like `Database`; also the
 * databases the local sandbox records in `estate.json`.
 */
export const DatabaseRecord = z.object({
  kind: zodOf(parts.ResourceKind),
  id: z.string().check(z.minLength(1)),
  arn: z.string(),
  region: z.string().check(z.minLength(1)),
  engine: z.string(),
  status: z.string().check(z.minLength(1)),
  tags: z.record(z.string(), z.string()),
  clusterId: z.optional(z.string()),
  encrypted: z.optional(z.boolean()),
  cacheEngine: z.optional(z.string()),
  automatedBackup: z.optional(
    z.object({ retentionDays: z.number().check(z.int(), z.gte(0)), window: z.optional(z.string()) }),
  ),
  createdAt: z.optional(z.string()),
  replicaOf: z.optional(z.string()),
  ebs: z.optional(z.object({ volumes: z.array(z.string()), attachedTo: z.optional(z.string()) })),
}) satisfies z.ZodMiniType<Database>;

type InventoryKind = 'snapshots' | 'databases';
const SAMPLE: Record<InventoryKind, string> = {
  snapshots: 'events/inventory/snapshots.json',
  databases: 'events/inventory/databases.json',
};
const COMMAND: Record<InventoryKind, string> = { snapshots: 'plan retention', databases: 'plan backup' };

/** What an inventory file holds, judged by its first entry: a snapshot has a `sourceId`, a database an `engine`. */
const holds = (raw: unknown): InventoryKind | undefined => {
  const first: unknown = Array.isArray(raw) ? raw[0] : undefined;
  if (typeof first !== 'object' || first === null) return undefined;
  if ('sourceId' in first) return 'snapshots';
  if ('engine' in first) return 'databases';
  return undefined;
};

/** The other kind of inventory than `wanted` is one line naming both commands, not an issue per entry. */
const refuseOtherKind = (raw: unknown, wanted: InventoryKind, source: string): void => {
  const got = holds(raw);
  if (got === undefined || got === wanted) return;
  throw new EventShapeError(
    `${source} holds ${got}, not ${wanted}: ${COMMAND[wanted]} takes ${wanted} (${SAMPLE[wanted]}); ${got} are for ${COMMAND[got]}`,
  );
};

/** Validate a database inventory file's content; throws EventShapeError naming every bad entry and field. */
export const parseDatabaseInventory = (raw: unknown, source: string): Database[] => {
  refuseOtherKind(raw, 'databases', source);
  const r = z.array(DatabaseRecord).safeParse(raw);
  if (!r.success)
    throw new EventShapeError(`Invalid database inventory (${source})`, formatIssues(r.error.issues));
  return r.data;
};

/** Validate an inventory file's content; throws EventShapeError naming every bad entry and field. */
export const parseInventory = (raw: unknown, source: string): Snapshot[] => {
  refuseOtherKind(raw, 'snapshots', source);
  const r = SnapshotInventory.safeParse(raw);
  if (!r.success)
    throw new EventShapeError(`Invalid snapshot inventory (${source})`, formatIssues(r.error.issues));
  return r.data;
};
