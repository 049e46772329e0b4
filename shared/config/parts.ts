import * as z from '../zod.js';
import { strictObject } from './strict.js';

// Schemas that the config and the functions' own events and environments share. They live apart from the
// config schema so that a function bundle parsing an event does not carry the whole config schema: a
// function reads its stage's config as data, validated at synth (./embedded.ts).

/** What steward protects: RDS instances, Aurora clusters, ElastiCache, and EBS (EC2 instances' volumes, or single volumes). */
export const ResourceKind = /* @__PURE__ */ z.onFirstUse(() =>
  z.enum(['rds-instance', 'aurora-cluster', 'elasticache', 'ebs']),
);
export type ResourceKind = z.infer<typeof ResourceKind>;

export const KmsKeyArn = /* @__PURE__ */ z.onFirstUse(() =>
  z
    .string()
    .check(
      z.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/, 'must be a KMS key or alias ARN'),
    ),
);

/** How a drill picks what to restore. `randomWithinDays` draws among available snapshots of the last N days. */
export const SnapshotSelector = /* @__PURE__ */ z.onFirstUse(() =>
  z.union(
    [
      z.literal('latest'),
      strictObject({ randomWithinDays: z.int().check(z.minimum(1), z.maximum(35)) }),
      strictObject({ id: z.string().check(z.minLength(1)) }),
      strictObject({ pointInTime: z.iso.datetime({ offset: true }) }),
    ],
    {
      error:
        'must be latest, { randomWithinDays: <1-35> }, { id: <snapshot id> } or { pointInTime: <ISO time> }',
    },
  ),
);
export type SnapshotSelector = z.infer<typeof SnapshotSelector>;

/** AWS region code: area (and gov/iso/country partition), direction, number. */
export const Region = /* @__PURE__ */ z.onFirstUse(() =>
  z
    .string()
    .check(
      z.regex(
        /^[a-z]{2,4}(-gov|-iso[a-z]?|-[a-z]{2})?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/,
        'must be an AWS region such as eu-west-1',
      ),
    ),
);
