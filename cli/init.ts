import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import type { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import type { RDSClient } from '@aws-sdk/client-rds';
import { elastiCacheClient } from '../shared/aws/clients/elasticache.js';
import { rdsClient } from '../shared/aws/clients/rds.js';
import { elastiCacheBackup } from '../shared/aws/elasticache.js';
import { rdsBackup } from '../shared/aws/rds.js';
import {
  checkStageText,
  configLocation,
  deployCommand,
  displayPath,
  EXAMPLES_DIR,
  renderProblem,
  stageFromFileName,
} from '../shared/config/files.js';
import { Region } from '../shared/config/parts.js';
import { JSON_SCHEMA_PATH } from '../shared/config/reference.js';
import { PolicyName, StageName } from '../shared/config/schema.js';
import { closest, suggestion } from '../shared/config/suggest.js';
import { errorCode, errorMessage } from '../shared/errors.js';
import { targetFailureKind } from '../shared/fleet/fan-out.js';
import type { Database } from '../shared/model.js';
import { Tag } from '../shared/tags.js';
import { isNoCredentials, UsageError } from './base.js';
import type { Flags } from './flags.js';
import { table } from '../shared/table.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What `steward init` reads; tests pass clients pointed at moto, a prompt, and a terminal flag. */
export interface InitDeps {
  rds?: RDSClient;
  elasticache?: ElastiCacheClient;
  /** Asks one question on the terminal. */
  prompt?: (question: string) => Promise<string>;
  /** Whether stdin is a terminal (only then is the user asked to pick). */
  interactive?: boolean;
  env?: Record<string, string | undefined>;
  now?: () => Date;
}

/**
 * Candidate databases: RDS instances (not Aurora members: their cluster is the unit), clusters, cache groups.
 * Credentials that may read RDS but not ElastiCache (a common read-only role) still get the RDS databases:
 * `cachesUnread` says why the caches are missing. An RDS listing that fails fails the read.
 */
export const readDatabases = async (
  region: string,
  rds: RDSClient,
  cache: ElastiCacheClient,
): Promise<{ databases: Database[]; cachesUnread?: string }> => {
  const r = rdsBackup(region, rds);
  let cachesUnread: string | undefined;
  const [instances, clusters, groups] = await Promise.all([
    r.listInstances(),
    r.listClusters(),
    elastiCacheBackup(region, cache)
      .listReplicationGroups()
      .catch((e: unknown) => {
        // Only a refusal of these credentials (fleet's reading of AWS error codes); anything else stops init.
        if (isNoCredentials(e) || targetFailureKind(e) !== 'access-denied') throw e;
        cachesUnread = `${errorCode(e)}: ${errorMessage(e)}`;
        return [];
      }),
  ]);
  return {
    databases: [...instances.filter((d) => !d.clusterId), ...clusters, ...groups],
    ...(cachesUnread ? { cachesUnread } : {}),
  };
};

const minutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/**
 * The first whole hour from `preferred` (UTC) that starts outside every automated backup window, with 30
 * minutes after each window for the backup to finish: RDS refuses a manual snapshot while an instance is
 * `backing-up`. Windows are `hh:mm-hh:mm` (UTC) and may wrap midnight.
 */
export const hourOutside = (windows: readonly string[], preferred = 3): number => {
  const busy = windows
    .map((w) => /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(w))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const start = minutes(m[1]!);
      let end = minutes(m[2]!) + 30;
      if (end <= start) end += 24 * 60;
      return [start, end] as const;
    });
  for (let i = 0; i < 24; i++) {
    const h = (preferred + i) % 24;
    const t = h * 60;
    if (!busy.some(([s, e]) => (t >= s && t < e) || (t + 24 * 60 >= s && t + 24 * 60 < e))) return h;
  }
  return preferred;
};

const automatedText = (d: Database): string => {
  const a = d.automatedBackup;
  if (!a) return 'unknown';
  if (a.retentionDays === 0) return 'off';
  return `${a.retentionDays} d${a.window ? `, ${a.window} UTC` : ''}`;
};

const isCache = (d: Database) => d.kind === 'elasticache';

/** The exact command that opts one database into a policy. */
export const tagCommand = (d: Database, policy: string): string =>
  `aws ${isCache(d) ? 'elasticache' : 'rds'} add-tags-to-resource --region ${d.region} --resource-name ${d.arn} --tags Key=${Tag.backup},Value=${policy}`;

export interface InitPlan {
  yaml: string;
  /** Tagging commands for the picked databases that are not opted in yet. */
  commands: string[];
  notes: string[];
}

/**
 * The starting config for the picked databases, and how to opt them in. Pure: the inventory and the picks
 * in, text out. Policies: `daily` (RDS, Aurora) and `cache` (ElastiCache), each at the first hour outside
 * the picked databases' automated backup windows, plus one policy per `steward:backup` value the account
 * already uses (so those databases keep being backed up).
 */
export const planInit = (o: {
  stage: string;
  region: string;
  schemaRef: string;
  databases: Database[];
  picked: Database[];
  at: Date;
}): InitPlan => {
  const notes: string[] = [];
  const existing = new Map<string, Database[]>();
  for (const d of o.databases) {
    const v = d.tags[Tag.backup];
    if (v === undefined) continue;
    if (!PolicyName.safeParse(v).success || v === 'adhoc') {
      notes.push(
        `${d.id} has ${Tag.backup}=${v}, which is not a usable policy name: retag it (lowercase letters, digits, hyphens)`,
      );
      continue;
    }
    existing.set(v, [...(existing.get(v) ?? []), d]);
  }
  const pickedRds = o.picked.filter((d) => !isCache(d));
  const pickedCaches = o.picked.filter(isCache);
  const policyOf = (d: Database) => {
    const v = d.tags[Tag.backup];
    return v !== undefined && existing.has(v) ? v : isCache(d) ? 'cache' : 'daily';
  };
  const members = (policy: string) => [
    ...(existing.get(policy) ?? []),
    ...o.picked.filter((d) => d.tags[Tag.backup] === undefined && policyOf(d) === policy),
  ];
  const policies = new Map<string, Database[]>([['daily', members('daily')]]);
  if (pickedCaches.length || existing.has('cache')) policies.set('cache', members('cache'));
  for (const name of existing.keys()) policies.set(name, members(name));

  const policyYaml = [...policies.entries()].flatMap(([name, dbs]) => {
    const caches = dbs.length > 0 && dbs.every(isCache);
    const kinds =
      name === 'cache' || caches
        ? ['elasticache']
        : dbs.length && !dbs.some(isCache)
          ? ['rds-instance', 'aurora-cluster']
          : undefined;
    const windows = dbs.flatMap((d) => (d.automatedBackup?.window ? [d.automatedBackup.window] : []));
    const hour = hourOutside(windows);
    const moved =
      hour !== 3
        ? ` # 03:00 falls in an automated backup window (${windows.join(', ')}): moved to ${String(hour).padStart(2, '0')}:00`
        : '';
    return [
      `    ${name}:${dbs.length ? ` # ${dbs.map((d) => d.id).join(', ')}` : ''}`,
      `      schedule: cron(0 ${hour} * * ? *)${moved}`,
      ...(kinds ? [`      kinds: [${kinds.join(', ')}]`] : []),
      `      retention: ${name === 'cache' || caches ? 'cache' : 'standard'}`,
    ];
  });
  const usesCacheRetention = [...policies.entries()].some(
    ([n, dbs]) => n === 'cache' || (dbs.length > 0 && dbs.every(isCache)),
  );

  for (const d of o.picked) {
    const a = d.automatedBackup;
    if (a?.retentionDays === 0 && !isCache(d)) {
      notes.push(
        `${d.id}: automated backups are off, so there is no point-in-time restore (drills with pointInTime fail, read replicas cannot be added)`,
      );
    }
  }
  const commands = o.picked
    .filter((d) => d.tags[Tag.backup] === undefined)
    .map((d) => tagCommand(d, policyOf(d)));

  const drillCandidates = pickedRds.map((d) => d.id);
  const yaml = [
    `# yaml-language-server: $schema=${o.schemaRef}`,
    '#',
    `# steward config for the stage "${o.stage}", written by steward init on ${o.at.toISOString().slice(0, 10)} from ${o.region}.`,
    '# Review it, then: npx steward validate, and npx cdk deploy --all -c config=<this directory> -c stage=' +
      o.stage,
    "# Every key is in the README's configuration reference; keys left out take their defaults.",
    '',
    `region: ${o.region}`,
    '# Start in dry run: every function plans and reports, nothing is created or deleted.',
    '# Set dryRun: false once the plans in the info topic look right.',
    'dryRun: true',
    '',
    'backup:',
    '  policies:',
    '    # A database opts in with the tag steward:backup=<policy> (see the commands steward init printed).',
    ...policyYaml,
    '',
    'retention:',
    '  policies:',
    '    # Grandfather-father-son: 30 dailies, 8 weeklies, 12 monthlies, 3 yearlies, never fewer than 7.',
    '    standard: { daily: 30, weekly: 8, monthly: 12, yearly: 3, keepAtLeast: 7 }',
    ...(usesCacheRetention ? ['    cache: { daily: 7, keepAtLeast: 3 }'] : []),
    '',
    '# Restore drills prove that backups restore: each database needs a verification profile (what to',
    `# check after the restore). See the README (DR drills) and ${EXAMPLES_DIR}/steward.prod.yaml.`,
    ...(drillCandidates.length ? [`# Candidates: ${drillCandidates.join(', ')}.`] : []),
    'drill:',
    '  enabled: false',
    '',
  ].join('\n');
  return { yaml, commands, notes };
};

/** The file init writes: `--config` as a file, or `steward.<stage>.yaml` in `--config` (default ./config). */
const targetFile = (flags: Flags, stage: string, env: Record<string, string | undefined>): string => {
  const location = configLocation(flags.config, env);
  if (existsSync(location) && statSync(location).isDirectory())
    return join(location, `steward.${stage}.yaml`);
  if (extname(location) === '.json')
    throw new UsageError(`steward init writes YAML (with comments): name the file .yaml`);
  return ['.yaml', '.yml'].includes(extname(location)) ? location : join(location, `steward.${stage}.yaml`);
};

/** The most database names an error lists (suggestion's cut). */
const LIST_MAX = 12;

const parsePicks = (answer: string, databases: Database[]): Database[] => {
  const a = answer.trim();
  if (!a) return [];
  if (a.toLowerCase() === 'all') return databases;
  return a.split(',').flatMap((raw) => {
    const item = raw.trim();
    if (!item) return [];
    if (/^\d+$/.test(item)) {
      const d = databases[Number(item) - 1];
      if (!d) throw new UsageError(`no database number ${item} (1-${databases.length})`);
      return [d];
    }
    const found = databases.filter((d) => d.id === item);
    if (!found.length) {
      const ids = databases.map((d) => d.id);
      const near = closest(item, ids);
      // A small account lists every database; a large one (500) a dozen and how to pick by number.
      const few = ids.length <= LIST_MAX;
      throw new UsageError(
        `no database "${item}" in the account${few ? ` (${ids.join(', ') || 'none found'})` : ` of ${ids.length}`}${
          near
            ? `: did you mean "${near}"?`
            : few
              ? ''
              : `: ${suggestion(item, ids)}; numbers 1-${ids.length} pick them as listed`
        }`,
      );
    }
    return found;
  });
};

const terminalPrompt = async (question: string): Promise<string> => {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
};

/**
 * `steward init`: read the account's databases (RDS instances, Aurora clusters, ElastiCache replication
 * groups: tags and automated backup settings), write a starting config for the stage, and print the
 * exact tagging commands for the databases picked (`--databases a,b`, `--all`, or a prompt on a terminal).
 * Without credentials or a region it writes the documented example and says how to continue.
 */
export const init = async (
  positionals: string[],
  flags: Flags,
  out: (s: string) => void,
  deps: InitDeps = {},
): Promise<number> => {
  if (positionals.length) throw new UsageError(`init takes no arguments (got: ${positionals.join(' ')})`);
  const env = deps.env ?? process.env;
  const stage = flags.stage ?? 'dev';
  if (!StageName.safeParse(stage).success) {
    throw new UsageError(
      `--stage "${stage}": 1-16 lowercase letters, digits and single hyphens, starting with a letter`,
    );
  }
  if (flags.all && flags.databases !== undefined) throw new UsageError('--all and --databases are exclusive');
  const file = targetFile(flags, stage, env);
  const shown = displayPath(file);
  if (existsSync(file) && !flags.force) {
    throw new UsageError(
      `${shown} exists: steward init never overwrites a config (pass --force to replace it)`,
    );
  }
  const schemaRef = relative(dirname(resolve(file)), `${ROOT}${JSON_SCHEMA_PATH}`)
    .split('\\')
    .join('/');
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  // A mistyped region is the user's input: refused here, not as an unreachable endpoint or an invalid config.
  if (region !== undefined && !Region.safeParse(region).success) {
    const from =
      flags.region !== undefined
        ? '--region'
        : env.AWS_REGION !== undefined
          ? 'AWS_REGION'
          : 'AWS_DEFAULT_REGION';
    throw new UsageError(
      `${from}${from === '--region' ? ' ' : '='}${region}: must be an AWS region such as eu-west-1`,
      [from],
    );
  }

  let databases: Database[] | undefined;
  let why: string | undefined;
  if (!region) why = 'no region (--region or AWS_REGION)';
  else {
    try {
      const read = await readDatabases(
        region,
        deps.rds ?? rdsClient(region),
        deps.elasticache ?? elastiCacheClient(region),
      );
      databases = read.databases;
      if (read.cachesUnread)
        out(
          `note: ElastiCache replication groups not listed (${read.cachesUnread}): none is in this config; rerun with credentials that may call elasticache:DescribeReplicationGroups, or add them by hand.`,
        );
    } catch (e) {
      if (!isNoCredentials(e)) throw e;
      why = 'no AWS credentials';
    }
  }

  if (!databases || !region) {
    const example = exampleIn(await readFile(`${ROOT}${EXAMPLES_DIR}/steward.prod.yaml`, 'utf8'), region);
    // The example acts (it is the seed setup); a config init writes starts in dry run, as from an account.
    const text = example
      .replace(/^# yaml-language-server: \$schema=.*$/m, `# yaml-language-server: $schema=${schemaRef}`)
      .replace(
        /^region: .*$/m,
        '$&\ndryRun: true # steward init: plan and report only; set false to act (README: Go live)',
      );
    await writeOnce(file, text, stage);
    out(
      [
        `${why}: steward init cannot read the account, so it wrote the documented example, in dry run (dryRun: true), to ${shown}.`,
        '',
        'To continue:',
        `  1. Edit ${shown}: region, backup and retention policies, drills (see the README's configuration reference).`,
        `  2. npx steward validate --config ${shown}`,
        `  3. Opt databases in: aws rds add-tags-to-resource --resource-name <db arn> --tags Key=${Tag.backup},Value=daily`,
        `  4. ${deployCommand(file, stage)}`,
        `Or set credentials and a region (AWS_PROFILE, AWS_REGION) and run steward init --stage ${stage} --force to start from your account.`,
      ].join('\n'),
    );
    return 0;
  }

  let picked: Database[] = [];
  if (flags.all) picked = databases;
  else if (flags.databases !== undefined) picked = parsePicks(flags.databases, databases);
  const account = databases.find((d) => d.arn)?.arn.split(':')[4];
  const inventory = table(
    ['#', 'KIND', 'DATABASE', 'ENGINE', 'AUTOMATED BACKUPS', Tag.backup],
    databases.map((d, i) => [
      String(i + 1),
      d.kind,
      d.id,
      d.engine,
      automatedText(d),
      d.tags[Tag.backup] ?? '-',
    ]),
  );
  const where = `${account ? `account ${account}, ` : ''}${region}`;
  let asked = false;
  if (
    !flags.all &&
    flags.databases === undefined &&
    databases.length &&
    (deps.interactive ?? process.stdin.isTTY)
  ) {
    out(`Databases in ${where}:\n${inventory}`);
    asked = true;
    picked = parsePicks(
      await (deps.prompt ?? terminalPrompt)(
        'Protect which? Numbers or names, comma-separated, "all", or empty for none: ',
      ),
      databases,
    );
  }

  const plan = planInit({
    stage,
    region,
    schemaRef,
    databases,
    picked,
    at: (deps.now ?? (() => new Date()))(),
  });
  await writeOnce(file, plan.yaml, stage);
  const lines = [`Wrote ${shown} (stage ${stage}, ${region}, dry run on).`, ''];
  // Asked on a terminal: the inventory is on the screen already, above the answer.
  if (!asked)
    lines.push(
      databases.length
        ? `Databases in ${where}:\n${inventory}`
        : `No RDS, Aurora or ElastiCache databases in ${where}.`,
    );
  for (const n of plan.notes) lines.push(`note: ${n}`);
  lines.push('');
  if (plan.commands.length)
    lines.push('Opt the picked databases in (tag them):', ...plan.commands.map((c) => `  ${c}`), '');
  else if (!picked.length && databases.length)
    lines.push(
      'No databases picked: rerun with --databases <a,b> or --all (and --force) for their tagging commands.',
      '',
    );
  lines.push(
    'Next:',
    `  npx steward validate --config ${shown}`,
    `  ${deployCommand(file, stage)}`,
    '  The config starts in dry run (dryRun: true): set it to false once the reported plans look right.',
  );
  out(lines.join('\n'));
  return 0;
};

/**
 * The documented example for the region asked (`--region` or AWS_REGION), not silently its own: the stage region
 * replaced; when that is the example's DR region, the DR copies (region and key) go to the example's stage
 * region instead, as a DR region must differ from the regions backed up. No region: the example as it is.
 */
export const exampleIn = (example: string, region: string | undefined): string => {
  const own = /^region: (\S+)/m.exec(example)?.[1];
  const dr = /^dr:\n(?:[ #].*\n)*? {2}region: (\S+)/m.exec(example)?.[1];
  if (!region || !own || region === own) return example;
  const moved = dr === region ? example.replaceAll(dr, own) : example;
  return moved.replace(/^region: \S+/m, `region: ${region}`);
};

/** Validate what init generated (it must pass `steward validate` as written), then write it. */
const writeOnce = async (file: string, generated: string, stage: string): Promise<void> => {
  // A file not named steward.<stage>.yaml must say its stage.
  const text =
    stageFromFileName(file) === stage
      ? generated
      : generated.replace(/^region:/m, `stage: ${stage}\nregion:`);
  const check = checkStageText(text, displayPath(file), stage);
  if (!check.ok)
    throw new Error(
      `steward init generated an invalid config:\n${check.problems.map(renderProblem).join('\n')}`,
    );
  await mkdir(dirname(resolve(file)), { recursive: true });
  await writeFile(file, text);
};
