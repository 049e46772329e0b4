/**
 * Whether any backup policy backs EBS up. Apart from the EBS adapter (shared/aws/ebs.ts re-exports it), so
 * wiring that only asks loads none of the adapter's code.
 */
export const backsUpEbs = (config: { backup: { policies: Record<string, { kinds: readonly string[] }> } }) =>
  Object.values(config.backup.policies).some((p) => p.kinds.includes('ebs'));

/**
 * The kinds the backup policies cover, each once: what a run that looks a database up (a pre-change snapshot,
 * an AWS Health event) lists. The backup role may describe only these (infra/backup.ts grantBackupEstate): an
 * RDS-only stage has no grant to list ElastiCache groups or EC2 instances, and listing them fails the run.
 */
export const backedUpKinds = <K extends string>(config: {
  backup: { policies: Record<string, { kinds: readonly K[] }> };
}): K[] => [...new Set(Object.values(config.backup.policies).flatMap((p) => p.kinds))];
