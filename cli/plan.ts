import { planBackups } from '../shared/backup/plan.js';
import { errorMessage } from '../shared/errors.js';
import {
  DOUBT_RULES,
  EARLIER_DATABASE,
  GFS_RULES,
  type KeepRule,
  type RetentionPlan,
  type Verdict,
} from '../shared/retention/gfs.js';
import { parseDatabaseInventory, parseInventory } from '../shared/retention/inventory.js';
import { planRetentionFor } from '../shared/retention/policy.js';
import { listForRetention, planListed } from '../shared/retention/service.js';
import { stateTableName } from '../shared/scaling/env.js';
import { suggestion } from '../shared/config/suggest.js';
import { NO_CREDENTIALS_HINT, readJson, UsageError } from './base.js';
import { actingIn, checkCredentialsFor, fanOutTargetOf, localBaseAt, targetedStage } from './target.js';
import type { Flags } from './flags.js';
import { table } from '../shared/table.js';

const verdictRow = (v: Verdict) => [
  v.action.toUpperCase(),
  v.region,
  v.kind,
  v.sourceId,
  v.id,
  v.createdAt?.slice(0, 16).replace('T', ' ') ?? '-',
  v.reason,
];
const VERDICT_HEADERS = ['ACTION', 'REGION', 'KIND', 'SOURCE', 'SNAPSHOT', 'CREATED (UTC)', 'WHY'];

/** Named in the default output: what will be deleted, and what a human should look at (doubt, a disputed source). */
const named = (v: Verdict): boolean =>
  v.action === 'expire' ||
  v.action === 'defer' ||
  (v.action === 'keep' && DOUBT_RULES.includes(v.rule)) ||
  (v.action === 'skip' && v.rule === 'source-mismatch');

/** The order the kept counts read in: the slots, then the other keeps. */
const KEEP_ORDER: readonly KeepRule[] = [
  ...GFS_RULES,
  'newest',
  'keep-at-least',
  'retain-until',
  'awaiting-dr',
  ...DOUBT_RULES,
];

interface PerDatabase {
  cells: [string, string, string];
  kept: Map<KeepRule, number>;
  keep: number;
  earlier: number;
  expire: number;
  defer: number;
  skip: number;
}

/** One line per database (region, kind, source): what is kept, by the first rule that keeps each snapshot. */
const perDatabase = (verdicts: readonly Verdict[]): string => {
  const dbs = new Map<string, PerDatabase>();
  // Verdicts come sorted by region, kind and source: the map keeps that order.
  for (const v of verdicts) {
    const key = `${v.region}\u0000${v.kind}\u0000${v.sourceId}`;
    let db = dbs.get(key);
    if (!db)
      dbs.set(
        key,
        (db = {
          cells: [v.region, v.kind, v.sourceId],
          kept: new Map(),
          keep: 0,
          earlier: 0,
          expire: 0,
          defer: 0,
          skip: 0,
        }),
      );
    db[v.action]++;
    if (v.action !== 'keep') continue;
    db.kept.set(v.rule, (db.kept.get(v.rule) ?? 0) + 1);
    if (v.reason.includes(EARLIER_DATABASE)) db.earlier++;
  }
  return table(
    ['REGION', 'KIND', 'SOURCE', 'KEPT', 'KEPT BY', 'DELETE', 'DEFER', 'SKIPPED'],
    [...dbs.values()].map((db) => [
      ...db.cells,
      db.keep,
      [
        ...KEEP_ORDER.flatMap((r) => (db.kept.has(r) ? [`${r} ${db.kept.get(r)}`] : [])),
        ...(db.earlier ? [`(${db.earlier} of an earlier database of the name)`] : []),
      ].join(', ') || '-',
      db.expire,
      db.defer,
      db.skip,
    ]),
  );
};

/**
 * Render a retention plan for an operator: each snapshot to delete (or deferred by the day's allowance) and
 * each kept on doubt, named, then one line per database counting what is kept by which rule, then the totals.
 * At 500 databases that is the day's deletions and 500 lines, not 20 000 KEEP rows: `all` lists every
 * snapshot with the rule that decided it (`--all`), and `--json` prints the full plan.
 */
export const renderRetentionPlan = (plan: RetentionPlan, opts: { all?: boolean } = {}): string => {
  const s = plan.summary;
  const totals = `${s.total} snapshots: ${s.expire} to delete, ${s.defer} deferred by the day's allowance (${plan.allowance.allowed}: ${plan.allowance.due} became due in the last 48 h${plan.allowance.capHit === 'safety' ? '; SAFETY CAP REACHED' : ''}), ${s.keep} kept (${s.doubt} on doubt${s.byRule['awaiting-dr'] ? `, ${s.byRule['awaiting-dr']} awaiting DR` : ''}), ${s.skip} not ours to judge`;
  if (opts.all) return [table(VERDICT_HEADERS, plan.verdicts.map(verdictRow)), '', totals].join('\n');
  const rows = plan.verdicts.filter(named);
  const hidden = plan.verdicts.length - rows.length;
  return [
    rows.length
      ? `To delete, deferred, or needing a look (${rows.length}):\n${table(VERDICT_HEADERS, rows.map(verdictRow))}`
      : 'Nothing to delete, nothing in doubt.',
    '',
    ...(plan.verdicts.length
      ? [
          'Per database (each kept snapshot counted under the first rule that keeps it):',
          perDatabase(plan.verdicts),
          '',
        ]
      : []),
    totals,
    ...(hidden
      ? [
          `${hidden} kept or skipped are counted above, not listed: --all lists every snapshot, --json prints the full plan.`,
        ]
      : []),
  ].join('\n');
};

/**
 * What the retention run would plan now, read as it reads: the function's own wiring (the same stores: swept
 * regions, the DR region read only, the stage's dump objects and its Redis DR copies) and the same listing and
 * plan calls (listForRetention, planListed), so the preview and the run never differ in what they judge.
 * Another account-region is wired as the fan-out child that keeps it (its spoke target: no dump objects, which
 * the hub's run keeps; its account's Redis DR bucket under its region's prefix), read with the caller's
 * profile of that account (checked), as spoke roles trust only the hub's functions.
 */
const planAgainstAws = async (
  flags: Flags,
  now: Date,
): Promise<{ plan: RetentionPlan; unread: string[] }> => {
  const { at, base } = localBaseAt(flags, true, () => {});
  await checkCredentialsFor(actingIn(at));
  const unread: string[] = [];
  const { wire } = await import('../functions/retention/handler.js');
  const { redisDrBucketFor } = await import('./invoke.js');
  const target = await fanOutTargetOf(at, 'retention');
  let deps: ReturnType<typeof wire>;
  if (target) {
    deps = wire(
      base,
      { STATE_TABLE: stateTableName(base.config.stage) },
      { target, hubRegion: at.hub.region },
    );
  } else {
    let bucket: string | undefined;
    try {
      bucket = await redisDrBucketFor(base, true);
    } catch (e) {
      unread.push(`Redis DR copies (the DR bucket's name needs the account): ${errorMessage(e)}`);
    }
    deps = wire(base, {
      STATE_TABLE: stateTableName(base.config.stage),
      ...(bucket ? { REDIS_DR_BUCKET: bucket } : {}),
    });
  }
  const listing = await listForRetention(deps);
  for (const o of listing.outcomes) if (o.status === 'failed') unread.push(`${o.resource}: ${o.error}`);
  return { plan: planListed(deps, listing, now), unread };
};

const planRetentionCmd = async (flags: Flags, out: (s: string) => void): Promise<number> => {
  const now = new Date();
  let plan: RetentionPlan;
  let unread: string[] = [];
  if (flags.inventory) {
    const snapshots = parseInventory(
      await readJson(flags.inventory, '--inventory'),
      `--inventory ${flags.inventory}`,
    );
    plan = planRetentionFor(snapshots, targetedStage(flags).config, now);
  } else {
    ({ plan, unread } = await planAgainstAws(flags, now));
  }
  out(
    flags.json ? JSON.stringify({ ...plan, unread }, null, 2) : renderRetentionPlan(plan, { all: flags.all }),
  );
  // What could not be read is left out of the plan (kept, never deleted): say so, and exit 1.
  if (!flags.json && unread.length)
    out(
      [
        '',
        'Could not read:',
        ...unread.map((u) => `  ${u}`),
        ...(unread.some((u) => /CredentialsProviderError|Could not load credentials/.test(u))
          ? ['', NO_CREDENTIALS_HINT]
          : []),
      ].join('\n'),
    );
  return unread.length ? 1 : 0;
};

const planBackupCmd = async (flags: Flags, out: (s: string) => void): Promise<number> => {
  if (flags.all)
    throw new UsageError(
      '--all lists every snapshot of plan retention; plan backup already lists every database (got --all)',
      ['--all'],
    );
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
  if (what === 'retention') {
    if (flags.policy !== undefined)
      throw new UsageError(
        `--policy picks the policy of plan backup; plan retention judges the snapshots of every policy (got --policy ${flags.policy})`,
        ['--policy'],
      );
    return planRetentionCmd(flags, out);
  }
  if (what === 'backup') return planBackupCmd(flags, out);
  const known = ['retention', 'backup'];
  const choices = '(plan retention or plan backup)';
  if (what === undefined) throw new UsageError(`plan what? ${choices}`);
  throw new UsageError(`unknown plan "${what}": ${suggestion(what, known)} ${choices}`, [what]);
};
