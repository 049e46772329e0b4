import * as z from '../zod.js';
import { HostCommand } from './consistency.js';
import { strictObject } from './strict.js';

// The EBS drill's optional verifier (shared/drill/ebs-verifier.ts): a short-lived instance in the drill
// network that the restored volumes are attached to, and a configured check run on it through the steward
// Command document's `check` phase. An EBS drill target without `verify` is restore-only.

// Graviton types carry a `g` after the generation digit (t4g, m7g, c6gn, r8gd): the verifier boots the
// arm64 Amazon Linux 2023 image, which runs on nothing else.
const ARM64_TYPE = /^[a-z]+[0-9]+g[a-z]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal)$/;

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
  registrationSeconds: z._default(z.int().check(z.minimum(60), z.maximum(900)), 300),
});
export type EbsVerify = z.infer<typeof EbsVerify>;
