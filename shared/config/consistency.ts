import * as z from '../zod.js';
import { crossCheck, strictObject } from './strict.js';

// Application consistency of EC2-hosted databases (shared/backup/consistency.ts): the commands steward
// runs through Systems Manager Run Command before and after an instance's snapshot set.

// Systems Manager resolves `{{ssm:name}}` references in the parameters of a command it sends, so a value
// with `{{` could read a parameter with steward's role instead of running as written: refused.
const noReference = z.refine<string>(
  (s) => !s.includes('{{'),
  "must not contain '{{': Systems Manager would read it as a parameter reference",
);

/** steward's cap on one configured command (it travels as one document parameter). */
export const COMMAND_MAX = 4000;

/** A shell command run on the instance as written (by the steward Command document). */
export const HostCommand = z.string().check(
  z.minLength(1),
  z.maxLength(COMMAND_MAX),
  z.refine((s) => s.trim().length > 0, 'must not be blank'),
  noReference,
);

export const DumpConfig = strictObject({
  /** Writes the dump to stdout, e.g. `mongodump --archive --gzip`; steward streams it to S3. */
  command: HostCommand,
  /** The bucket the instance's own role writes to (s3:PutObject and s3:DeleteObject on the prefix). */
  bucket: z
    .string()
    .check(
      z.regex(
        /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)',
      ),
    ),
  /** Key prefix: the dump lands at `<prefix><policy>/<instance>/<snapshot set id>.dump`. */
  prefix: z._default(
    z
      .string()
      .check(
        z.regex(
          /^(?:[A-Za-z0-9!_.*'()-]+\/)*$/,
          "must be empty or path segments of letters, digits and !_.*'()- each ending in /",
        ),
        z.maxLength(200),
      ),
    'steward/',
  ),
  /** Execution timeout of the dump on the instance. */
  timeoutSeconds: z._default(z.int().check(z.minimum(10), z.maximum(600)), 300),
});
export type DumpConfig = z.infer<typeof DumpConfig>;

const settings = {
  /** Freeze or lock before the snapshot, e.g. `fsfreeze -f /data` or `mongosh --eval 'db.fsyncLock()'`. */
  pre: z.optional(HostCommand),
  /** Thaw or unlock after it; must be safe to run twice (steward retries a post command that never ran). */
  post: z.optional(HostCommand),
  /** Execution timeout of the pre and of the post command. */
  timeoutSeconds: z._default(z.int().check(z.minimum(1), z.maximum(120)), 15),
  /**
   * The longest the application may stay frozen. steward thaws when the snapshot call has not returned in
   * time, and the host's watchdog runs the post command after this long even if steward never comes back.
   */
  maxFreezeSeconds: z._default(z.int().check(z.minimum(10), z.maximum(600)), 60),
  /** A failed pre command: take a crash-consistent snapshot after thawing, or skip the instance this run. */
  onPreFailure: z._default(z.enum(['crash-consistent', 'skip']), 'crash-consistent'),
  /** A dump streamed to S3 before the freeze, tagged and kept by the policy's retention. */
  dump: z.optional(DumpConfig),
};

type Settings = { pre?: string; post?: string; timeoutSeconds: number; maxFreezeSeconds: number };

const paired = crossCheck<Settings>(['pre', 'post', 'timeoutSeconds', 'maxFreezeSeconds'], (c, ctx) => {
  if ((c.pre === undefined) !== (c.post === undefined))
    ctx.addIssue({
      code: 'custom',
      path: [c.pre === undefined ? 'pre' : 'post'],
      message:
        'pre and post go together: a pre command without a post command would leave the application frozen',
    });
  const least = 2 * c.timeoutSeconds + 10;
  if (c.pre !== undefined && c.maxFreezeSeconds < least)
    ctx.addIssue({
      code: 'custom',
      path: ['maxFreezeSeconds'],
      message: `must be at least ${least} (twice timeoutSeconds plus 10): the pre and the post command must both fit inside the freeze`,
    });
});

/** One instance's own settings; replaces the policy's for that instance. */
export const ConsistencySettings = strictObject(settings).check(paired);
export type ConsistencySettings = z.infer<typeof ConsistencySettings>;

/** A policy's application consistency: the settings for its instances, and per-instance replacements. */
export const ConsistencyConfig = strictObject({
  ...settings,
  /**
   * By instance id: the instance's own settings, or `false` for crash-consistent snapshot sets only.
   */
  instances: z._default(
    z.record(
      z
        .string()
        .check(
          z.regex(
            /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/,
            'must be an EC2 instance id such as i-0abc1234def567890',
          ),
        ),
      z.union([ConsistencySettings, z.literal(false)]),
    ),
    {},
  ),
}).check(paired);
export type ConsistencyConfig = z.infer<typeof ConsistencyConfig>;
