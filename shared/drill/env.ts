import * as v from '../valid.js';
import { BaseEnv } from '../config/env.js';
import { KmsKeyArn, Region } from '../config/parts.js';

// Each schema is built on its first use (shared/valid.ts `onFirstUse`): a function's bundle keeps only the
// environment it reads (the drill's, the verifier's, the cache verifier's), and builds it at its first invoke.
const SecurityGroupIds = /* @__PURE__ */ v.onFirstUse(() =>
  v.pipe(
    v
      .string()
      .check(
        v.regex(/^\s*sg-[0-9a-f]+(\s*,\s*sg-[0-9a-f]+)*\s*$/, 'must be a comma-separated list of sg-… ids'),
      ),
    v.transform((v) => v.split(',').map((s) => s.trim())),
  ),
);

/** Environment of the drill control-plane function; the construct types its `environment` with it. */
export const DrillEnv = /* @__PURE__ */ v.onFirstUse(() =>
  v.extend(BaseEnv, {
    /** DynamoDB table (pk `pk`, TTL attribute `ttl`) where `await` parks task tokens. */
    DRILL_TABLE: v.string().check(v.minLength(1)),
    /** S3 bucket for drill reports (`drills/<database>/<yyyy>/<mm>/<drillId>.json`). */
    REPORT_BUCKET: v.string().check(v.minLength(3)),
    /** When set, reports are encrypted with this key (aws:kms); otherwise SSE-S3 (AES256). */
    REPORT_KMS_KEY_ARN: v.optional(KmsKeyArn),
    /** DB subnet group of the isolated drill network; restored copies are never public. */
    DRILL_SUBNET_GROUP: v.string().check(v.minLength(1)),
    /** Security groups of restored copies: they should admit only the verifier function. */
    DRILL_SECURITY_GROUP_IDS: SecurityGroupIds,
    /** Redis drills (`drill.caches`): the drill VPC's cache subnet group. */
    DRILL_CACHE_SUBNET_GROUP: v.optional(v.string().check(v.minLength(1))),
    /** Redis drills: security groups of restored replication groups (Redis from the cache verifier only). */
    DRILL_CACHE_SECURITY_GROUP_IDS: v.optional(SecurityGroupIds),
    /** Redis drills with `auth: iam`: the user group with steward's IAM-authenticated verifier user. */
    DRILL_CACHE_USER_GROUP: v.optional(v.string().check(v.minLength(1))),
    /** Redis drills `from: dr`: the DR region's bucket of RDB copies, where such a drill picks its snapshot. */
    REDIS_DR_BUCKET: v.optional(v.string().check(v.minLength(3))),
    /** EBS drills (`drill.volumes`): the drill VPC's Availability Zone the volumes are restored in. */
    DRILL_EBS_AZ: v.optional(v.string().check(v.minLength(1))),
    /**
     * `drill.endpoints.mode: per-drill`: the drill VPC and, per service, where a drill creates its interface
     * endpoint (JSON, shared/drill/endpoints.ts `EndpointSpec`).
     */
    DRILL_ENDPOINTS: v.optional(v.string().check(v.minLength(2))),
    /** With DRILL_ENDPOINTS: the drill state machine, whose running executions keep the endpoints. */
    DRILL_STATE_MACHINE_ARN: v.optional(v.string().check(v.regex(/^arn:aws[a-z-]*:states:/))),
  }),
);
export type DrillEnv = v.infer<typeof DrillEnv>;

/** Environment of the verifier function (inside the VPC). */
export const DrillVerifyEnv = /* @__PURE__ */ v.onFirstUse(() =>
  v.extend(BaseEnv, {
    /**
     * `verify-full` checks the server certificate and host name against the RDS CAs; `require` only
     * encrypts (an explicit, visible downgrade for a network where the CA bundle is unavailable).
     */
    PG_SSL_MODE: v._default(v.enum(['verify-full', 'require']), 'verify-full'),
    /**
     * CA bundle with the RDS certificate authorities. Lambda's Node.js 20+ runtimes ship the Amazon CAs
     * there but no longer load them by default.
     */
    PG_CA_FILE: v._default(v.string().check(v.minLength(1)), '/var/runtime/ca-cert.pem'),
  }),
);
export type DrillVerifyEnv = v.infer<typeof DrillVerifyEnv>;

/** Environment of the cache verifier (inside a drill VPC). */
export const CacheVerifyEnv = /* @__PURE__ */ v.onFirstUse(() =>
  v.extend(BaseEnv, {
    /**
     * The region of the drill VPC the verifier runs in, when not the stage's: `dr.region` for the DR stack's
     * verifier (Redis drills from the DR copy). It reaches and signs IAM login tokens for groups there only.
     */
    CACHE_VERIFIER_REGION: v.optional(Region),
  }),
);
export type CacheVerifyEnv = v.infer<typeof CacheVerifyEnv>;

/**
 * Where verifiers launch, for the function that runs them (infra/ebs-verifier.ts sets all three when a drill
 * target configures a verifier): the drill subnets as `az=subnet-…` pairs, the instances' security group and
 * their instance profile.
 */
export const EbsVerifierEnv = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    DRILL_VERIFIER_SUBNETS: v.optional(
      v
        .string()
        .check(
          v.regex(
            /^[a-z0-9-]+=subnet-[0-9a-f]+(,[a-z0-9-]+=subnet-[0-9a-f]+)*$/,
            'must be az=subnet-… pairs, comma-separated',
          ),
        ),
    ),
    DRILL_VERIFIER_SECURITY_GROUP: v.optional(
      v.string().check(v.regex(/^sg-[0-9a-f]+$/, 'must be a security group id')),
    ),
    DRILL_VERIFIER_INSTANCE_PROFILE: v.optional(
      v
        .string()
        .check(
          v.regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/, 'must be an instance profile ARN'),
        ),
    ),
  }),
);
export type EbsVerifierEnv = v.infer<typeof EbsVerifierEnv>;
