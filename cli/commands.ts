// The CLI's commands as data: usage, what each does, its options and an example. The global help, each
// command's --help, option checking ("did you mean") and the README's command list all come from here.

import { BENCH_GROUPS } from '../bench/groups.js';

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  help: 'Show this help (also: steward help <command>).',
  version: 'Print the steward version.',
} as const;

/** How the shared options read, so every command says the same. */
const CONFIG = 'Stage config file or directory (default: $STEWARD_CONFIG, else ./config).';
const STAGE = 'The stage (needed when the config directory holds several).';
const JSON_OUT = 'Print one JSON document (also on failure: {"error": {...}}).';
const DRY_RUN = 'Read and plan only: change nothing, send nothing (say what would be sent).';
const LOCAL = "Read the sandbox's history (.steward/, left by npm start) instead of AWS.";
const HISTORY = 'Read the sandbox history from this directory instead of .steward/.';
const BUCKET = 'The report bucket (default: steward-<stage>-reports-<account>-<region>).';
const TARGET =
  "One of the stage's targets: its index in targets (with --region when it has several) or <account>/<region>.";
const ACCOUNT = "An account of the stage's targets (12 digits).";
const REGION = "A region of the stage's targets (default: the stage's region).";
/** The options that pick one of the stage's account-regions (checked against its targets). */
const TARGETS = { target: TARGET, account: ACCOUNT, region: REGION };
const TARGET_USAGE = '[--target <index|account/region>] [--account <id>] [--region <region>]';

export interface CommandSpec {
  name: string;
  /** Arguments and options after `steward <name>`. */
  usage: string;
  /** What it does, in a sentence or three. */
  summary: string;
  /** Option name (without --) → what it does. */
  options: Record<string, string>;
  /** A command line to copy. */
  example: string;
  /**
   * Its arguments (before or between the options): none, one (named as in the usage line), or any number.
   * A stray argument is bad usage, never silently ignored.
   */
  args?: 'none' | { one: string } | 'any';
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'validate',
    args: { one: '<file or dir>' },
    usage: '[<file or dir>] [--config <file or dir>] [--stage <name>] [--json]',
    summary:
      'Check stage configs (steward.<stage>.yaml) exactly as synth does: every problem with its file, line, ' +
      'column, key path and fix. Exit 0 when all are valid, 2 otherwise. Reads no AWS.',
    options: { config: CONFIG, stage: STAGE, json: JSON_OUT },
    example: 'steward validate config/',
  },
  {
    name: 'init',
    args: 'none',
    usage: '[--stage dev] [--config <dir or file>] [--region <region>] [--databases a,b | --all] [--force]',
    summary:
      'Read the account (RDS instances, Aurora clusters, ElastiCache replication groups, their tags and ' +
      'automated backups) and write a starting config plus the tagging commands for the databases you pick ' +
      '(prompted on a terminal). Without AWS credentials it writes the documented example.',
    options: {
      stage: 'Stage to write (default: dev).',
      config: 'Directory or file to write (default: ./config).',
      region: 'Region to read (default: AWS_REGION).',
      databases: 'Databases to protect, by name or number, comma-separated.',
      all: 'Protect every database found.',
      force: 'Overwrite an existing config file.',
    },
    example: 'steward init --stage prod --region eu-west-1 --databases orders-db,sessions',
  },
  {
    name: 'schema',
    args: 'none',
    usage: '',
    summary: 'Print the JSON Schema of a stage config file (for editors: reference it from your files).',
    options: { write: 'Regenerate the committed schema and the README reference sections (developers).' },
    example: 'steward schema > steward-config.schema.json',
  },
  {
    name: 'invoke',
    args: { one: '<function>' },
    usage: `<function> --event <file> [--stage <name>] ${TARGET_USAGE} [--dry-run] [--json]`,
    summary:
      "Run a function's real handler locally with real AWS SDK clients (honours AWS_PROFILE, AWS_REGION, " +
      'AWS_ENDPOINT_URL). Functions: backup, retention, drill, drill-verify, cost, scaling, report; ' +
      'events/ holds a sample event for each. --target runs backup or retention as in that account-region ' +
      '(its region, its policy overrides), with the credentials of that account, as a dry run.',
    options: {
      event: 'The event (JSON file), e.g. one of events/<function>/.',
      config: CONFIG,
      stage: STAGE,
      ...TARGETS,
      'dry-run': DRY_RUN,
      json: JSON_OUT,
    },
    example: 'steward invoke backup --event events/backup/scheduled.json --stage dev --dry-run',
  },
  {
    name: 'plan',
    args: { one: 'retention|backup' },
    usage: `retention|backup [--stage <name>] ${TARGET_USAGE} [--policy daily] [--inventory <file.json>] [--all] [--json]`,
    summary:
      'Show what retention would keep and delete, or which databases a scheduled backup would snapshot, ' +
      'and why. Reads AWS unless --inventory is given; changes nothing. plan retention names each snapshot ' +
      'to delete and each kept on doubt, and counts what each database keeps by rule (--all: every snapshot).',
    options: {
      inventory: 'Plan from this JSON file (snapshots or databases) instead of reading AWS.',
      policy: 'plan backup: the backup policy (default: the first in the config).',
      all: 'plan retention: list every snapshot with its rule, KEEP rows included (--json always has all).',
      config: CONFIG,
      stage: STAGE,
      ...TARGETS,
      json: JSON_OUT,
    },
    example: 'steward plan retention --stage dev --inventory events/inventory/snapshots.json',
  },
  {
    name: 'sandbox',
    args: 'none',
    usage:
      '[--engine postgres|redis|ebs] [--size <rows|NMB|sessions>] [--break <kind>] [--history <dir>] [--json]',
    summary:
      'The local sandbox (npm start): back up a local PostgreSQL, restore it into a second server with the ' +
      'drill state machine, verify it and report RTO/RPO. --engine redis drills a local redis-server instead ' +
      "through the same state machine (BGSAVE snapshot, restore from the RDB file); --engine ebs an EC2 instance's " +
      'volumes as ext4 image files (snapshot set and restore are copies, the check fsck -n and debugfs). --break makes the drill fail.',
    options: {
      engine: 'postgres (default), redis or ebs.',
      size: 'Sample size: rows (200000) or a database size (80MB, 1GB), default 50000 rows; redis: sessions, default 20000.',
      break:
        'Damage the source before the backup: missing-table, rows-lost, stale or orphans; redis: keys-lost, ttl-lost or stale; ebs: corrupt, missing-file or stale.',
      history: 'Where the run leaves its history (default: .steward/).',
      json: JSON_OUT,
    },
    example: 'steward sandbox --size 80MB --break rows-lost',
  },
  {
    name: 'drill',
    args: { one: '<database>' },
    usage: `<database> [--snapshot latest|<id>] [--pitr <ISO time>] [--stage <name>] ${TARGET_USAGE} [--wait] [--json]`,
    summary:
      'Start a restore drill of a configured database in the deployed drill state machine. --wait follows ' +
      'it and prints the report; exit 0 only when the drill passed.',
    options: {
      snapshot: 'latest (default) or a snapshot id.',
      pitr: 'Restore to this point in time instead (ISO time with offset).',
      wait: 'Follow the drill and print its report (Ctrl-C stops waiting, not the drill).',
      config: CONFIG,
      stage: STAGE,
      ...TARGETS,
      json: JSON_OUT,
    },
    example: 'steward drill orders-db --stage prod --wait',
  },
  {
    name: 'drills',
    args: 'none',
    usage: '[--stage <name>] [--limit 20] [--json]',
    summary: 'Recent drills, newest first: database, status, RTO, RPO and outcome.',
    options: { limit: 'How many (1 to 1000, default 20).', config: CONFIG, stage: STAGE, json: JSON_OUT },
    example: 'steward drills --stage prod --limit 5',
  },
  {
    name: 'scale',
    args: 'none',
    usage: '--alarm <name> [--stage <name>] [--dry-run] [--json]',
    summary:
      'What the scaling rule answering that alarm would do now, and why (--dry-run: read only). Without ' +
      "--dry-run it runs the rule's playbook now, through every guardrail and its mode.",
    options: {
      alarm: 'The CloudWatch alarm a scaling rule answers.',
      'dry-run': DRY_RUN,
      config: CONFIG,
      stage: STAGE,
      json: JSON_OUT,
    },
    example: 'steward scale --alarm orders-db-cpu-high --stage prod --dry-run',
  },
  {
    name: 'approve',
    args: { one: '<id>' },
    usage: `<id> [--stage <name>] ${TARGET_USAGE} [--dry-run] [--json]`,
    summary:
      'Execute a scaling change awaiting approval, once, after checking it against the resource again. ' +
      "An approval asked for in a spoke target (its message names it): add --target; the stage's deployed " +
      'scaling function executes it there with its spoke role (one Lambda Invoke, with credentials of the hub account).',
    options: { 'dry-run': DRY_RUN, config: CONFIG, stage: STAGE, ...TARGETS, json: JSON_OUT },
    example: 'steward approve e34135da0d95 --stage prod --target 222222222222/eu-central-1',
  },
  {
    name: 'cost',
    args: 'none',
    usage: '[--stage <name>] [--json]',
    summary:
      'Month-to-date cost by service, the month-end forecast and which thresholds are armed, fired or due. ' +
      'Reads Cost Explorer (3 requests, $0.03) and the alert ledger; sends nothing.',
    options: { config: CONFIG, stage: STAGE, json: JSON_OUT },
    example: 'steward cost --stage prod',
  },
  {
    name: 'status',
    args: 'none',
    usage: `[--stage <name>] ${TARGET_USAGE} [--json] [--local | --history <dir>] [--bucket <name>]`,
    summary:
      "Every database of the stage's account-region (or the target's), tagged or not: policy (or UNPROTECTED), newest backup, " +
      'snapshots held vs kept, DR lag, last drill with RTO/RPO, scaling, and one health word (OK, LATE, ' +
      'FAILING, UNPROTECTED) with the reason. Exit 1 when anything is LATE or FAILING.',
    options: {
      local: LOCAL,
      history: HISTORY,
      bucket: BUCKET,
      config: CONFIG,
      stage: STAGE,
      ...TARGETS,
      json: JSON_OUT,
    },
    example: 'steward status --stage prod --target 222222222222/eu-central-1',
  },
  {
    name: 'report',
    args: 'none',
    usage:
      '[--month YYYY-MM] [--out file.html] [--stage <name>] [--json] [--local | --history <dir>] [--bucket <name>]',
    summary:
      "The month's recovery evidence (default: last month): per database backups taken vs scheduled, DR " +
      'copies and DR lag, retention deletions, every drill with its checks, RTO/RPO against targets, as one ' +
      'self-contained HTML page with charts (--json prints the JSON document). Reads only.',
    options: {
      month: 'The month, YYYY-MM (default: last month).',
      out: 'The HTML file to write (default: steward-evidence-<stage>-<month>.html).',
      local: LOCAL,
      history: HISTORY,
      bucket: BUCKET,
      config: CONFIG,
      stage: STAGE,
      json: JSON_OUT,
    },
    example: 'steward report --local --out evidence.html',
  },
  {
    name: 'bench',
    args: 'any',
    usage: '[<group> ...] [--json]',
    summary: `Benchmarks (npm run bench): ratios measured side by side in one run. Name groups to run only those: ${BENCH_GROUPS.join(', ')}.`,
    options: { json: JSON_OUT },
    example: 'npm run bench -- estate',
  },
];

/** A command by name. */
export const commandSpec = (name: string): CommandSpec | undefined => COMMANDS.find((c) => c.name === name);

/** Options of a command, global ones included. */
export const optionsOf = (spec: CommandSpec): string[] => [
  ...Object.keys(spec.options),
  ...Object.keys(GLOBAL_OPTIONS),
];

const wrap = (text: string, indent: string, width = 100): string[] => {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
};

/** `steward <name> <usage>`: the line the README's command list shows. */
export const usageLine = (spec: CommandSpec): string =>
  `steward ${spec.name}${spec.usage ? ` ${spec.usage}` : ''}`;

/** The help of every command: usage and what it does. */
export const globalHelp = (): string =>
  [
    'steward — ops automation for RDS/Aurora and ElastiCache',
    '',
    'Usage:',
    ...COMMANDS.flatMap((c) => [`  ${usageLine(c)}`, ...wrap(c.summary, '      ')]),
    '',
    'Every command that reads a stage config takes --config <file or dir> (default: $STEWARD_CONFIG, else',
    './config) and --stage <name> (needed when the directory holds several stages).',
    '`steward <command> --help` shows its options and an example; `steward --version` the version.',
    '',
    'Exit codes: 0 ok, 1 failed (a check, an action or AWS), 2 bad usage, input or config.',
  ].join('\n');

/** One command's help: usage, what it does, its options, an example. */
export const commandHelp = (spec: CommandSpec): string => {
  const options = { ...spec.options, ...GLOBAL_OPTIONS };
  const width = Math.max(...Object.keys(options).map((o) => o.length)) + 2;
  return [
    `Usage: ${usageLine(spec)}`,
    '',
    ...wrap(spec.summary, ''),
    '',
    'Options:',
    ...Object.entries(options).map(([o, what]) => `  --${o.padEnd(width)}  ${what}`),
    '',
    'Example:',
    `  ${spec.example}`,
  ].join('\n');
};

/** A stray argument: `steward cost prod` → `steward cost takes no arguments (got: prod)`. */
export const strayArguments = (spec: CommandSpec, args: readonly string[]): string | undefined => {
  const a = spec.args;
  if (a === undefined || a === 'any') return undefined;
  const usage = `; usage: ${usageLine(spec)}`;
  if (a === 'none')
    return args.length
      ? `steward ${spec.name} takes no arguments (got: ${args.join(' ')})${usage}`
      : undefined;
  return args.length > 1
    ? `steward ${spec.name} takes one argument, ${a.one} (got also: ${args.slice(1).join(' ')})${usage}`
    : undefined;
};
