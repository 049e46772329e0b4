import { ec2Client } from '../shared/aws/clients/ec2.js';
import { elastiCacheClient } from '../shared/aws/clients/elasticache.js';
import { rdsClient } from '../shared/aws/clients/rds.js';
import { taggingClient } from '../shared/aws/clients/tagging.js';
import { ebsBackup } from '../shared/aws/ebs.js';
import { awsSnapshotStore } from '../shared/aws/snapshots.js';
import { ResourceKind } from '../shared/config/schema.js';
import { planBackups } from '../shared/backup/plan.js';
import type { RetentionPlan } from '../shared/retention/gfs.js';
import { parseDatabaseInventory, parseInventory } from '../shared/retention/inventory.js';
import {
  drReadOnlyRegion,
  type DrSnapshots,
  planRetentionFor,
  retentionRegions,
} from '../shared/retention/policy.js';
import { suggestion } from '../shared/config/suggest.js';
import { NO_CREDENTIALS_HINT, readJson, UsageError } from './base.js';
import { actingIn, checkCredentialsFor, targetedStage } from './target.js';
import type { Flags } from './flags.js';
import { table } from '../shared/table.js';

/** Render a retention plan: one row per snapshot with the rule that decided it, then the totals. */
export const renderRetentionPlan = (plan: RetentionPlan): string => {
  const rows = plan.verdicts.map((v) => [
    v.action.toUpperCase(),
    v.region,
    v.kind,
    v.sourceId,
    v.id,
    v.createdAt?.slice(0, 16).replace('T', ' ') ?? '-',
    v.reason,
  ]);
  const s = plan.summary;
  return [
    table(['ACTION', 'REGION', 'KIND', 'SOURCE', 'SNAPSHOT', 'CREATED (UTC)', 'WHY'], rows),
    '',
    `${s.total} snapshots: ${s.expire} to delete, ${s.defer} deferred by the day's allowance (${plan.allowance.allowed}: ${plan.allowance.due} became due in the last 48 h${plan.allowance.capHit === 'safety' ? '; SAFETY CAP REACHED' : ''}), ${s.keep} kept (${s.doubt} on doubt${s.byRule['awaiting-dr'] ? `, ${s.byRule['awaiting-dr']} awaiting DR` : ''}), ${s.skip} not ours to judge`,
  ].join('\n');
};

const planRetentionCmd = async (flags: Flags, out: (s: string) => void): Promise<number> => {
  const at = targetedStage(flags);
  const { config } = at;
  const now = new Date();
  let snapshots;
  let unread: string[] = [];
  let drSnapshots: DrSnapshots = 'in-inventory';
  if (flags.inventory) {
    snapshots = parseInventory(
      await readJson(flags.inventory, '--inventory'),
      `--inventory ${flags.inventory}`,
    );
  } else {
    await checkCredentialsFor(actingIn(at));
    const store = (r: string) =>
      awsSnapshotStore(r, rdsClient(r), elastiCacheClient(r), taggingClient(r), ebsBackup(r, ec2Client(r)));
    const drOnly = drReadOnlyRegion(config);
    const [lists, drList] = await Promise.all([
      Promise.all(retentionRegions(config).map((r) => store(r).list(ResourceKind.options))),
      // The DR region, read only: which days reached it (what the function reads too).
      drOnly ? store(drOnly).list(['rds-instance', 'aurora-cluster', 'ebs']) : undefined,
    ]);
    snapshots = lists.flatMap((l) => l.snapshots);
    unread = [...lists, ...(drList ? [drList] : [])].flatMap((l) =>
      l.failures.map((f) => `${f.resource}: ${f.error}`),
    );
    if (drList) drSnapshots = drList.failures.length ? 'unreadable' : drList.snapshots;
  }
  const plan = planRetentionFor(snapshots, config, now, drSnapshots);
  out(flags.json ? JSON.stringify({ ...plan, unread }, null, 2) : renderRetentionPlan(plan));
  // What could not be read is left out of the plan (kept, never deleted): say so, and exit 1.
  if (!flags.json && unread.length)
    out(
      [
        '',
        'Could not read:',
        ...unread.map((u) => `  ${u}`),
        ...(unread.some((u) => u.includes('CredentialsProviderError')) ? ['', NO_CREDENTIALS_HINT] : []),
      ].join('\n'),
    );
  return unread.length ? 1 : 0;
};

const planBackupCmd = async (flags: Flags, out: (s: string) => void): Promise<number> => {
  const { config, place } = targetedStage(flags);
  const policyName = flags.policy ?? Object.keys(config.backup.policies)[0]!;
  const policy = config.backup.policies[policyName];
  if (!policy) {
    throw new UsageError(
      `unknown backup policy "${policyName}" for --policy: ${suggestion(policyName, Object.keys(config.backup.policies))}`,
      ['--policy'],
    );
  }
  if (!flags.inventory) {
    // Against AWS: the real handler in dry run, so quotas and copies are planned too.
    const { invokeFunction } = await import('./invoke.js');
    const event = { action: 'scheduled-backup', policy: policyName, scheduledTime: new Date().toISOString() };
    return invokeFunction('backup', event, { ...flags, 'dry-run': true }, out);
  }
  const databases = parseDatabaseInventory(
    await readJson(flags.inventory, '--inventory'),
    `--inventory ${flags.inventory}`,
  );
  const plan = planBackups(databases, policyName, policy, [], new Date(), {
    ...config.backup,
    place,
  });
  if (flags.json) {
    out(JSON.stringify(plan, null, 2));
    return 0;
  }
  out(
    table(
      ['ACTION', 'KIND', 'DATABASE', 'SNAPSHOT / WHY'],
      plan.actions.map((a) => [
        a.action.toUpperCase(),
        a.db.kind,
        a.db.id,
        a.action === 'create' ? a.snapshotId : `${a.reason}: ${a.detail}`,
      ]),
    ),
  );
  return 0;
};

/** `steward plan retention|backup`: what would happen now, and why, without changing anything. */
export const plan = async ([what]: string[], flags: Flags, out: (s: string) => void): Promise<number> => {
  if (what === 'retention') return planRetentionCmd(flags, out);
  if (what === 'backup') return planBackupCmd(flags, out);
  const known = ['retention', 'backup'];
  const choices = '(plan retention or plan backup)';
  if (what === undefined) throw new UsageError(`plan what? ${choices}`);
  throw new UsageError(`unknown plan "${what}": ${suggestion(what, known)} ${choices}`, [what]);
};
