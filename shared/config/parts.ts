import * as v from '../valid.js';

// Schemas that the config and the functions' own events and environments share. They live apart from the
// config schema so that a function bundle parsing an event does not carry the whole config schema: a
// function reads its stage's config as data, validated at synth (./embedded.ts).

/** What steward protects: RDS instances, Aurora clusters, ElastiCache, and EBS (EC2 instances' volumes, or single volumes). */
export const ResourceKind = /* @__PURE__ */ v.onFirstUse(() =>
  v.enum(['rds-instance', 'aurora-cluster', 'elasticache', 'ebs']),
);
export type ResourceKind = v.infer<typeof ResourceKind>;

export const KmsKeyArn = /* @__PURE__ */ v.onFirstUse(() =>
  v
    .string()
    .check(
      v.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/, 'must be a KMS key or alias ARN'),
    ),
);

/** How a drill picks what to restore. `randomWithinDays` draws among available snapshots of the last N days. */
export const SnapshotSelector = /* @__PURE__ */ v.onFirstUse(() =>
  v.union(
    [
      v.literal('latest'),
      v.strictObject({ randomWithinDays: v.int().check(v.minimum(1), v.maximum(35)) }),
      v.strictObject({ id: v.string().check(v.minLength(1)) }),
      v.strictObject({ pointInTime: v.iso.datetime({ offset: true }) }),
    ],
    {
      error:
        'must be latest, { randomWithinDays: <1-35> }, { id: <snapshot id> } or { pointInTime: <ISO time> }',
    },
  ),
);
export type SnapshotSelector = v.infer<typeof SnapshotSelector>;

/** AWS region code: area (and gov/iso/country partition), direction, number. */
export const Region = /* @__PURE__ */ v.onFirstUse(() =>
  v
    .string()
    .check(
      v.regex(
        /^[a-z]{2,4}(-gov|-iso[a-z]?|-[a-z]{2})?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/,
        'must be an AWS region such as eu-west-1',
      ),
    ),
);
