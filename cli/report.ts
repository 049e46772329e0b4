import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { awsEstate } from '../functions/report/handler.js';
import { previousMonth } from '../shared/report/evidence.js';
import { LOCAL_ROOT, loadLocalEstate } from '../shared/report/local-history.js';
import { buildEvidenceDocuments, type EvidenceDeps, evidenceNotification } from '../shared/report/monthly.js';
import { stateTableName } from '../shared/scaling/env.js';
import { stageConfig, UsageError } from './base.js';
import type { Flags } from './flags.js';
import { refuseAwsOptions, reportBucketFor } from './status.js';

/** What `steward report` reads; tests pass their own. */
export interface ReportCliDeps {
  estate?: EvidenceDeps;
  now?: () => Date;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The estate for the flags: the sandbox's history with --local / --history, else AWS for --stage. */
const estateFor = async (flags: Flags, now: () => Date): Promise<EvidenceDeps> => {
  if (isLocal(flags)) {
    refuseAwsOptions(flags);
    const local = await loadLocalEstate(flags.history ?? LOCAL_ROOT, now);
    return { ...local, history: local.history! };
  }
  const { config } = stageConfig(flags);
  return awsEstate(config, await reportBucketFor(config, flags.bucket), stateTableName(config.stage), now);
};

/**
 * `steward report [--month YYYY-MM] [--out file.html] [--stage <name>] [--json] [--local | --history <dir>]
 * [--bucket <name>]`: the month's recovery evidence (default: last month), built from the same reads as
 * the scheduled report, written as one self-contained HTML page. Reads only: nothing goes to the bucket.
 */
export const report = async (
  positionals: string[],
  flags: Flags,
  out: (s: string) => void,
  deps: ReportCliDeps = {},
): Promise<number> => {
  if (positionals.length)
    throw new UsageError(`report takes no arguments (got: ${positionals.join(' ')}); use --month`);
  const now = deps.now ?? (() => new Date());
  const month = flags.month ?? previousMonth(now());
  if (!MONTH.test(month)) throw new UsageError(`--month takes a month such as 2026-11 (got "${month}")`);
  if (month > now().toISOString().slice(0, 7)) throw new UsageError(`--month ${month} has not started yet`);
  if (flags.out !== undefined) checkOut(flags.out);
  const estate = deps.estate ?? (await estateFor(flags, now));
  const docs = await buildEvidenceDocuments(estate, month);
  if (flags.json) {
    out(docs.json.trimEnd());
    if (flags.out === undefined) return 0;
  }
  const file = resolve(flags.out ?? `steward-evidence-${docs.report.stage}-${month}.html`);
  try {
    await writeFile(file, docs.html);
  } catch (e) {
    throw new UsageError(`--out ${flags.out ?? file}: cannot write it: ${(e as Error).message}`, ['--out']);
  }
  if (!flags.json) {
    const n = evidenceNotification(docs.report, undefined);
    const hint =
      isLocal(flags) && flags.month === undefined ? await otherDrillMonths(estate, month) : undefined;
    out([n.subject, '', ...n.lines, '', `Wrote ${file}`, ...(hint ? [hint] : [])].join('\n'));
  }
  return 0;
};

/** A file `--out` cannot name, refused before the month's reads (bad input, exit 2). */
const checkOut = (out: string): void => {
  const file = resolve(out);
  if (existsSync(file) && statSync(file).isDirectory())
    throw new UsageError(`--out ${out}: is a directory: name the HTML file to write`, ['--out']);
  const dir = dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`--out ${out}: no such directory: ${dir}`, ['--out']);
};

const isLocal = (flags: Flags): boolean => flags.local === true || flags.history !== undefined;

/**
 * Right after `npm start` the sandbox's drills are this month's, and the default month (last month) has
 * none: say the newest month that has some, and the command for it.
 */
const otherDrillMonths = async (estate: EvidenceDeps, month: string): Promise<string | undefined> => {
  const months = [
    ...new Set(
      (await estate.history.list('drills/')).flatMap((o) => {
        const m = /^drills\/[^/]+\/(\d{4})\/(\d{2})\//.exec(o.key);
        return m ? [`${m[1]}-${m[2]}`] : [];
      }),
    ),
  ].sort();
  if (!months.length || months.includes(month)) return undefined;
  return `note: the sandbox history has no drills in ${month} (the default: last month); the newest are in ${months.at(-1)}: steward report --local --month ${months.at(-1)}`;
};
