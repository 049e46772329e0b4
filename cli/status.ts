import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { awsEstate } from '../functions/report/handler.js';
import { stsClient } from '../shared/aws/clients/sts.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { AwsCallError, errorMessage } from '../shared/errors.js';
import { shortDuration } from '../shared/report/format.js';
import { needsAttention } from '../shared/report/health.js';
import { reportBucketName } from '../shared/report/history.js';
import { LOCAL_ROOT, loadLocalEstate } from '../shared/report/local-history.js';
import { type DatabaseStatus, drillOutcome, type EstateStatus, type Health } from '../shared/report/model.js';
import { runStatus, type StatusDeps } from '../shared/report/status.js';
import { stateTableName } from '../shared/scaling/env.js';
import { placeLabel } from '../shared/fleet/place.js';
import { UsageError } from './base.js';
import { actingIn, checkCredentialsFor, placeFor, targetedStage } from './target.js';
import type { Flags } from './flags.js';
import { table } from '../shared/table.js';

/** What `steward status` reads; tests pass their own. */
export interface StatusCliDeps {
  status?: StatusDeps;
  /** Colour the health words (default: stdout is a terminal and NO_COLOR is unset). */
  color?: boolean;
  now?: () => Date;
}

const COLOURS: Record<Health, string> = { OK: '32', LATE: '33', FAILING: '31;1', UNPROTECTED: '35' };
const paint = (h: Health, text: string, color: boolean) =>
  color ? `\x1b[${COLOURS[h]}m${text}\x1b[0m` : text;

const KIND: Record<DatabaseStatus['kind'], string> = {
  'rds-instance': 'rds',
  'aurora-cluster': 'aurora',
  elasticache: 'cache',
  ebs: 'ebs',
};

const age = (s: number | undefined) => (s === undefined ? '-' : shortDuration(s));

const newest = (d: DatabaseStatus): string => {
  const n = d.newestSnapshot;
  if (!n) return '-';
  const mark = n.owner === 'steward' ? '' : ` (${n.owner === 'automated' ? 'auto' : 'other'})`;
  const state = n.status === 'available' ? '' : ` ${n.status}`;
  return `${age(n.ageSeconds)}${mark}${state}`;
};

const drill = (d: DatabaseStatus): string => {
  if (!d.drill) return '-';
  const last = d.drill.last;
  if (!last) return 'never';
  const day = last.startedAt.slice(0, 10);
  if (drillOutcome(last) === 'inconclusive') return `${day} INCONCLUSIVE`;
  if (!last.passed) return `${day} FAILED${last.failedStep ? ` at ${last.failedStep}` : ''}`;
  const vs = (v: number | undefined, t: number | undefined, met: boolean | undefined) =>
    v === undefined
      ? '?'
      : `${shortDuration(v)}${t === undefined ? '' : `/${shortDuration(t)}`}${met === false ? ' ✗' : ''}`;
  return `${day} passed, RTO ${vs(last.rtoSeconds, last.rtoTargetSeconds, last.rtoMet)}, RPO ${vs(last.rpoSeconds, last.rpoTargetSeconds, last.rpoMet)}`;
};

const scaling = (d: DatabaseStatus, at: number): string => {
  const s = d.scaling;
  if (!s) return '-';
  const parts: string[] = [];
  if (s.cooldownUntil) parts.push(`cooldown ${shortDuration((Date.parse(s.cooldownUntil) - at) / 1000)}`);
  if (s.approvals.length)
    parts.push(
      `${s.approvals.length} approval${s.approvals.length > 1 ? 's' : ''} pending (${s.approvals.map((a) => a.id).join(', ')})`,
    );
  return parts.join(', ') || '-';
};

const HEALTHS: Health[] = ['FAILING', 'LATE', 'UNPROTECTED', 'OK'];

/** The `steward status` table for people: one row per database, worst first, then why. */
export const renderStatus = (s: EstateStatus, color = false): string => {
  const at = Date.parse(s.at);
  const counts = HEALTHS.filter((h) => s.counts[h]).map((h) => paint(h, `${s.counts[h]} ${h}`, color));
  const lines = [
    `steward status: ${s.stage}, ${s.account ? `${s.account}/` : ''}${s.region}, ${s.at.slice(0, 16).replace('T', ' ')} UTC`,
    `${s.databases.length} database${s.databases.length === 1 ? '' : 's'}${counts.length ? `: ${counts.join(', ')}` : ''}`,
  ];
  if (s.databases.length) {
    lines.push('');
    const rendered = table(
      [
        'HEALTH',
        'DATABASE',
        'KIND',
        'POLICY',
        'NEWEST BACKUP',
        'HELD/KEEPS',
        'DR LAG',
        'LAST DRILL',
        'SCALING',
      ],
      s.databases.map((d) => [
        d.health,
        d.id,
        KIND[d.kind],
        d.policy ?? (d.replicaOf ? `replica of ${d.replicaOf}` : 'UNPROTECTED'),
        newest(d),
        d.keeps === undefined ? String(d.held) : `${d.held}/${d.keeps}`,
        d.dr ? age(d.dr.lagSeconds) : '-',
        drill(d),
        scaling(d, at),
      ]),
    ).split('\n');
    // The health word leads each row, so colouring it keeps the columns aligned.
    lines.push(
      rendered[0]!,
      rendered[1]!,
      ...rendered.slice(2).map((line, i) => {
        const h = s.databases[i]!.health;
        return paint(h, h, color) + line.slice(h.length);
      }),
    );
  }
  const why = s.databases.filter((d) => d.reasons.length);
  if (why.length) {
    lines.push('', 'Why:');
    for (const d of why)
      for (const r of d.reasons) lines.push(`  ${paint(d.health, d.health, color)} ${d.id}: ${r}`);
  }
  if (s.notes.length) lines.push('', 'Notes:', ...s.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
};

/** The AWS account the CLI's credentials belong to (names the report bucket). */
export const accountOf = async (region: string): Promise<string> => {
  try {
    const r = await stsClient(region).send(new GetCallerIdentityCommand({}));
    if (!r.Account) throw new Error('no account in the answer');
    return r.Account;
  } catch (e) {
    throw new AwsCallError('GetCallerIdentity', `region ${region}`, e);
  }
};

/**
 * The stage's report bucket: `--bucket`, else `steward-<stage>-reports-<account>-<region>` with the account
 * from the config or, failing that, from the CLI's credentials (STS GetCallerIdentity).
 */
export const reportBucketFor = async (config: StewardConfig, bucket: string | undefined): Promise<string> =>
  bucket ?? reportBucketName(config.stage, config.account ?? (await accountOf(config.region)), config.region);

/** Status deps against AWS for a stage; without a nameable report bucket, drill history is left out (noted). */
export const awsStatusDeps = async (
  config: StewardConfig,
  bucket: string | undefined,
  now: () => Date,
): Promise<StatusDeps> => {
  const notes: string[] = [];
  let name: string | undefined;
  try {
    name = await reportBucketFor(config, bucket);
  } catch (e) {
    notes.push(`report bucket unknown (${errorMessage(e)}): pass --bucket`);
  }
  const estate = awsEstate(config, name ?? 'unknown', stateTableName(config.stage), now, notes);
  if (name) return estate;
  const { history: _unnamed, ...rest } = estate;
  return rest;
};

/**
 * With --local or --history, the options that pick what to read in AWS (a stage's config, an account-region, a
 * bucket) would be ignored: refused instead, as a user who gave one expects it to count.
 */
export const refuseAwsOptions = (flags: Flags): void => {
  for (const option of ['bucket', 'config', 'stage', 'target', 'account', 'region'] as const)
    if (flags[option] !== undefined)
      throw new UsageError(
        `--${option} reads AWS; --local and --history read the sandbox history (with the stage and config it ran with)`,
        [`--${option}`],
      );
};

/** Status deps for the flags: the sandbox's history with --local / --history, else AWS for --stage. */
export const statusDepsFor = async (flags: Flags, now: () => Date): Promise<StatusDeps> => {
  if (flags.local || flags.history !== undefined) {
    refuseAwsOptions(flags);
    return loadLocalEstate(flags.history ?? LOCAL_ROOT, now);
  }
  const at = targetedStage(flags);
  const { hub, config, target } = at;
  await checkCredentialsFor(actingIn(at));
  if (!target || target.hub) return awsStatusDeps(config, flags.bucket, now);
  // Another account-region: its databases and snapshots with the caller's credentials there; drill
  // history and scaling state live in the hub's bucket and table, in another account.
  const {
    history: _hub,
    scaling: _table,
    ...estate
  } = awsEstate(config, 'unknown', stateTableName(hub.stage), now, [
    `${placeLabel(target)} is a target of the hub ${placeLabel(placeFor(hub, undefined))}: drill history and scaling state are the hub's (steward status there)`,
  ]);
  return estate;
};

/**
 * `steward status [--stage <name>] [--json] [--local | --history <dir>] [--bucket <name>]`: every database
 * of the account-region with its protection and one health word. Exit 1 when anything is LATE or FAILING.
 */
export const status = async (
  positionals: string[],
  flags: Flags,
  out: (s: string) => void,
  deps: StatusCliDeps = {},
): Promise<number> => {
  if (positionals.length) throw new UsageError(`status takes no arguments (got: ${positionals.join(' ')})`);
  const now = deps.now ?? (() => new Date());
  const statusDeps = deps.status ?? (await statusDepsFor(flags, now));
  const doc = await runStatus(statusDeps);
  const color = deps.color ?? (!flags.json && process.stdout.isTTY === true && !process.env.NO_COLOR);
  out(flags.json ? JSON.stringify(doc, null, 2) : renderStatus(doc, color));
  return needsAttention(doc) ? 1 : 0;
};
