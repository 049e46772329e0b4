import * as z from '../zod.js';
import { HostCommand } from './consistency.js';
import { crossCheck, strictObject } from './strict.js';

// The EBS drill's optional verifier (shared/drill/ebs-verifier.ts): a short-lived instance in the drill
// network that the restored volumes are attached to, and a configured check run on it through the steward
// Command document's `check` phase. An EBS drill target without `verify` is restore-only.

// Graviton types carry a `g` after the generation digit (t4g, m7g, c6gn, r8gd): the verifier boots the
// arm64 Amazon Linux 2023 image, which runs on nothing else.
const ARM64_TYPE = /^[a-z]+[0-9]+g[a-z]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal)$/;

// Lambda's 900 s, less 30 s for the task around it, less what the verifier adds (attach 60 s, the check's
// delivery and report slack 45 s, two detach waits of 120 s: VERIFY_OVERHEAD_SECONDS in shared/drill/ebs-verifier.ts).
/** The most registrationSeconds + timeoutSeconds may add up to. */
export const VERIFY_BUDGET_SECONDS = 900 - 30 - 345;

/** One EBS drill target's verifier: what runs on the restored volumes, on what, and how long it may take. */
export const EbsVerify = strictObject({
  /**
   * Run as written on the verifier (root, POSIX sh), with the restored volumes attached at the devices the
   * report lists, e.g. `fsck -n /dev/sdf1` or `mount -o ro,norecovery,nouuid /dev/sdf1 /mnt && test -s
   * /mnt/data/WiredTiger`. Exit status 0 passes. The volumes are throwaway copies in the drill network.
   */
  command: HostCommand,
  /** Execution timeout of the check on the instance. */
  timeoutSeconds: z._default(z.int().check(z.minimum(10), z.maximum(600)), 300),
  /** The verifier's instance type: arm64 (Graviton), as the image is. */
  instanceType: z._default(
    z.string().check(z.regex(ARM64_TYPE, 'must be an arm64 (Graviton) instance type such as t4g.small')),
    't4g.small',
  ),
  /** How long the instance may take to boot and register with Systems Manager before the check fails. */
  registrationSeconds: z._default(z.int().check(z.minimum(60), z.maximum(600)), 180),
}).check(
  crossCheck(['registrationSeconds', 'timeoutSeconds'], (v, ctx) => {
    if (v.registrationSeconds + v.timeoutSeconds > VERIFY_BUDGET_SECONDS)
      ctx.addIssue({
        code: 'custom',
        path: ['timeoutSeconds'],
        message: `registrationSeconds + timeoutSeconds must be at most ${VERIFY_BUDGET_SECONDS}: the verification (with attaching and detaching) runs within one Lambda invocation of at most 15 minutes`,
      });
  }),
);
export type EbsVerify = z.infer<typeof EbsVerify>;
