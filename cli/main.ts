import { parseArgs } from 'node:util';
import {
  BAD_INPUT_EXIT,
  ConfigError,
  errorName,
  EventShapeError,
  explainConfigError,
  StewardError,
} from '../shared/errors.js';
import { UsageError } from './base.js';

const HELP = `steward — ops automation for RDS/Aurora and ElastiCache

Usage:
  steward validate [<file or dir>] [--config <file or dir>] [--stage <name>] [--json]
      Check stage configs (steward.<stage>.yaml) exactly as synth does: every problem with its file,
      line, column, key path and fix. Exit 0 when all are valid, 2 otherwise.
  steward init [--stage dev] [--config <dir or file>] [--region <region>] [--databases a,b | --all] [--force]
      Read the account (RDS instances, Aurora clusters, ElastiCache replication groups, their tags and
      automated backups) and write a starting config plus the tagging commands for the databases you
      pick (prompted on a terminal). Without AWS credentials it writes the documented example.
  steward schema
      Print the JSON Schema of a stage config file (for editors: reference it from your files).
  steward invoke <function> --event <file> [--stage <name>] [--dry-run] [--json]
      Run a function's real handler locally with real AWS SDK clients
      (honours AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL). Functions: backup, retention.
  steward plan retention [--stage <name>] [--inventory <snapshots.json>] [--json]
      Show what retention would keep and delete, and why. Reads AWS unless --inventory is given.
  steward plan backup [--stage <name>] [--policy daily] [--inventory <databases.json>] [--json]
      Show which databases a scheduled backup would snapshot, and why others are skipped.
  steward sandbox [--size <rows|NMB>] [--break missing-table|rows-lost|stale|orphans] [--history <dir>] [--json]
      The local sandbox (npm start): back up a local PostgreSQL, restore it into a second server
      with the drill state machine, verify it and report RTO/RPO. --break makes the drill fail.
  steward drill <database> [--snapshot latest|<id>] [--pitr <ISO time>] [--stage <name>] [--wait] [--json]
      Start a restore drill of a configured database in the deployed drill state machine. --wait
      follows it and prints the report; exit 0 only when the drill passed.
  steward drills [--stage <name>] [--limit 20] [--json]
      Recent drills, newest first: database, status, RTO, RPO and outcome.
  steward scale --alarm <name> [--stage <name>] [--dry-run] [--json]
      What the scaling rule answering that alarm would do now, and why (--dry-run: read only).
      Without --dry-run it runs the rule's playbook now, through every guardrail and its mode.
  steward approve <id> [--stage <name>] [--dry-run] [--json]
      Execute a scaling change awaiting approval, once, after checking it against the resource again.
  steward cost [--stage <name>] [--json]
      Month-to-date cost by service, the month-end forecast and which thresholds are armed, fired
      or due. Reads Cost Explorer (3 requests, $0.03) and the alert ledger; sends nothing.
  steward status [--stage dev] [--json] [--local | --history <dir>] [--bucket <name>]
      Every database of the stage's account-region, tagged or not: policy (or UNPROTECTED), newest
      backup, snapshots held vs kept, DR lag, last drill with RTO/RPO, scaling, and one health word
      (OK, LATE, FAILING, UNPROTECTED) with the reason. Exit 1 when anything is LATE or FAILING.
      --local reads the sandbox's history (.steward/, left by npm start) instead of AWS.
  steward report [--month YYYY-MM] [--out file.html] [--stage dev] [--json] [--local | --history <dir>]
      The month's recovery evidence (default: last month): per database backups taken vs scheduled,
      DR copies and DR lag, retention deletions, every drill with its checks, RTO/RPO against targets,
      as one self-contained HTML page with charts (--json prints the JSON document). Reads only.
  steward bench
      Benchmarks (npm run bench).

Every command that reads a stage config takes --config <file or dir> (default: $STEWARD_CONFIG, else
./config) and --stage <name> (needed when the directory holds several stages).

Exit codes: 0 ok, 1 failed (a check, an action or AWS), 2 bad usage, input or config.`;

type Command = (positionals: string[], flags: Flags, out: (s: string) => void) => Promise<number>;
export interface Flags {
  config?: string;
  stage?: string;
  region?: string;
  databases?: string;
  all: boolean;
  force: boolean;
  write: boolean;
  event?: string;
  inventory?: string;
  policy?: string;
  break?: string;
  size?: string;
  snapshot?: string;
  pitr?: string;
  limit?: string;
  alarm?: string;
  history?: string;
  bucket?: string;
  month?: string;
  out?: string;
  local?: boolean;
  wait: boolean;
  'dry-run': boolean;
  json: boolean;
  help: boolean;
}

const commands: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./validate.js')).validate,
  init: async () => (await import('./init.js')).init,
  schema: async () => (await import('./schema.js')).schema,
  invoke: async () => (await import('./invoke.js')).invoke,
  plan: async () => (await import('./plan.js')).plan,
  sandbox: async () => (await import('./sandbox.js')).sandbox,
  drill: async () => (await import('./drill.js')).drill,
  drills: async () => (await import('./drill.js')).drills,
  cost: async () => (await import('./cost.js')).cost,
  bench: async () => (await import('../bench/run.js')).bench,
  scale: async () => (await import('./scale.js')).scale,
  approve: async () => (await import('./scale.js')).approve,
  status: async () => (await import('./status.js')).status,
  report: async () => (await import('./report.js')).report,
};

/** CLI entry: returns the process exit code; never throws. */
export const main = async (
  argv: string[],
  out: (s: string) => void = (s) => console.log(s),
): Promise<number> => {
  try {
    const { positionals, values } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        stage: { type: 'string' },
        region: { type: 'string' },
        databases: { type: 'string' },
        all: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        write: { type: 'boolean', default: false },
        event: { type: 'string' },
        inventory: { type: 'string' },
        policy: { type: 'string' },
        break: { type: 'string' },
        size: { type: 'string' },
        snapshot: { type: 'string' },
        pitr: { type: 'string' },
        limit: { type: 'string' },
        alarm: { type: 'string' },
        history: { type: 'string' },
        bucket: { type: 'string' },
        month: { type: 'string' },
        out: { type: 'string' },
        local: { type: 'boolean', default: false },
        wait: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [name, ...rest] = positionals;
    if (values.help || !name) {
      out(HELP);
      return name || values.help ? 0 : 2;
    }
    const load = commands[name];
    if (!load) throw new UsageError(`unknown command "${name}" (known: ${Object.keys(commands).join(', ')})`);
    return await (
      await load()
    )(rest, values as Flags, out);
  } catch (e) {
    const usage =
      e instanceof UsageError ||
      e instanceof ConfigError ||
      e instanceof EventShapeError ||
      String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
    if (e instanceof ConfigError) console.error(`steward: ${explainConfigError(e)}`);
    else
      console.error(`steward: ${e instanceof StewardError ? `${e.name}: ` : ''}${(e as Error).message ?? e}`);
    if (!usage && e instanceof Error && e.cause)
      console.error(`  cause: ${errorName(e.cause)}: ${(e.cause as Error).message}`);
    return usage ? BAD_INPUT_EXIT : 1;
  }
};
