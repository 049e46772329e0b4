/**
 * Whether any backup policy backs EBS up. Apart from the EBS adapter (shared/aws/ebs.ts re-exports it), so
 * wiring that only asks loads none of the adapter's code.
 */
export const backsUpEbs = (config: { backup: { policies: Record<string, { kinds: readonly string[] }> } }) =>
  Object.values(config.backup.policies).some((p) => p.kinds.includes('ebs'));
