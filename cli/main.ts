import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest, suggestion } from '../shared/config/suggest.js';
import {
  BAD_INPUT_EXIT,
  ConfigError,
  errorMessage,
  errorName,
  EventShapeError,
  explainConfigError,
  StewardError,
} from '../shared/errors.js';
import {
  isNoCredentials,
  isNotDeployed,
  NO_CREDENTIALS_HINT,
  notDeployedHint,
  StageNotDeployedError,
  UsageError,
} from './base.js';
import type { Flags } from './flags.js';
import {
  type CommandSpec,
  COMMANDS,
  commandHelp,
  commandSpec,
  globalHelp,
  optionsOf,
  strayArguments,
} from './commands.js';

type Command = (positionals: string[], flags: Flags, out: (s: string) => void) => Promise<number>;

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
  bench: async () => (await import('./bench.js')).bench,
  scale: async () => (await import('./scale.js')).scale,
  approve: async () => (await import('./scale.js')).approve,
  status: async () => (await import('./status.js')).status,
  report: async () => (await import('./report.js')).report,
};

/** Every option of every command, as parseArgs reads it. */
const OPTIONS = {
  config: { type: 'string', short: 'c' },
  stage: { type: 'string' },
  region: { type: 'string' },
  target: { type: 'string' },
  account: { type: 'string' },
  databases: { type: 'string' },
  all: { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  write: { type: 'boolean', default: false },
  event: { type: 'string' },
  inventory: { type: 'string' },
  policy: { type: 'string' },
  break: { type: 'string' },
  engine: { type: 'string' },
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
  version: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

/** The version in package.json. */
export const stewardVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;

const isBadInput = (e: unknown): boolean =>
  e instanceof UsageError ||
  e instanceof ConfigError ||
  e instanceof EventShapeError ||
  String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');

/** The one JSON document `--json` prints when a command fails: the error's name, message and bad fields. */
export const errorDocument = (e: unknown): { error: { name: string; message: string; fields: string[] } } => {
  const usage = String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS');
  const issues = (e as { issues?: unknown }).issues;
  return {
    error: {
      name: usage ? 'UsageError' : errorName(e),
      message: e instanceof ConfigError ? e.summary : errorMessage(e),
      fields: Array.isArray(issues) ? issues.map(String) : [],
    },
  };
};

/** `--dryrun` → `unknown option --dryrun for steward invoke: did you mean --dry-run?` */
const unknownOption = (option: string, spec: CommandSpec | undefined): UsageError => {
  const known = spec ? optionsOf(spec) : Object.keys(OPTIONS);
  const name = option.replace(/^-+/, '').split('=')[0]!;
  const near = closest(name, known);
  const list = `its options: ${known.map((o) => `--${o}`).join(', ')}`;
  if (!spec)
    return new UsageError(`unknown option ${option}${near ? `: did you mean --${near}?` : ''}`, [option]);
  if (near)
    return new UsageError(`unknown option ${option} for steward ${spec.name}: did you mean --${near}?`, [
      option,
    ]);
  // An option of another command: say this one does not take it.
  const elsewhere = name in OPTIONS ? name : closest(name, Object.keys(OPTIONS));
  return new UsageError(
    elsewhere
      ? `steward ${spec.name} does not take --${elsewhere} (${list})`
      : `unknown option ${option} for steward ${spec.name} (${list})`,
    [option],
  );
};

const parse = (argv: string[]) => {
  try {
    const parsed = parseArgs({ args: argv, allowPositionals: true, tokens: true, options: OPTIONS });
    // The command is the first positional: an option's value before it (`--stage prod status`) is not.
    const named = parsed.positionals[0];
    return { spec: named === undefined ? undefined : commandSpec(named), ...parsed };
  } catch (e) {
    // Parsing failed: the first word that names a command, to say which command's options were meant.
    const named = argv.find((a) => !a.startsWith('-') && commandSpec(a) !== undefined);
    const spec = named === undefined ? undefined : commandSpec(named);
    const option = /'(-[^' ]+)'/.exec((e as Error).message)?.[1];
    if ((e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option)
      throw unknownOption(option, spec);
    throw new UsageError((e as Error).message.split('. To specify')[0]!);
  }
};

/** Help text, or with --json the one document that carries it. */
const help = (text: string, json: boolean): string => (json ? JSON.stringify({ help: text }, null, 2) : text);

/** CLI entry: returns the process exit code; never throws. With --json, stdout gets exactly one JSON document. */
export const main = async (
  argv: string[],
  out: (s: string) => void = (s) => console.log(s),
): Promise<number> => {
  const json = argv.includes('--json');
  // One document: what the command prints, or the error if it fails after printing.
  const printed: string[] = [];
  const write = json ? (s: string) => void printed.push(s) : out;
  try {
    const { spec, positionals, values, tokens } = parse(argv);
    const [name, ...rest] = positionals;
    if (values.version) {
      write(json ? JSON.stringify({ version: stewardVersion() }) : `steward ${stewardVersion()}`);
    } else if (name === 'help' || (!name && values.help)) {
      const about = rest[0] === undefined ? undefined : commandSpec(rest[0]);
      if (rest[0] !== undefined && !about) throw unknownCommand(rest[0]);
      write(help(about ? commandHelp(about) : globalHelp(), json));
    } else if (!name) {
      if (json) throw new UsageError('no command given (steward --help lists them)');
      out(globalHelp());
      return BAD_INPUT_EXIT;
    } else {
      if (!spec) throw unknownCommand(name);
      if (values.help) write(help(commandHelp(spec), json));
      else {
        const allowed = new Set(optionsOf(spec));
        for (const t of tokens)
          if (t.kind === 'option' && !allowed.has(t.name)) throw unknownOption(t.rawName, spec);
        const stray = strayArguments(spec, rest);
        if (stray) throw new UsageError(stray, rest);
        const command = await commands[spec.name]!();
        const code = await command(rest, values as Flags, write);
        if (json) out(printed.join('\n'));
        return code;
      }
    }
    if (json) out(printed.join('\n'));
    return 0;
  } catch (e) {
    const usage = isBadInput(e);
    if (json) out(JSON.stringify(errorDocument(e), null, 2));
    if (e instanceof ConfigError) console.error(`steward: ${explainConfigError(e)}`);
    else console.error(`steward: ${e instanceof StewardError ? `${e.name}: ` : ''}${errorMessage(e)}`);
    if (!usage && e instanceof Error && e.cause)
      console.error(`  cause: ${errorName(e.cause)}: ${(e.cause as Error).message}`);
    if (isNoCredentials(e)) console.error(`  ${NO_CREDENTIALS_HINT}`);
    else if (!usage && isNotDeployed(e) && !(e instanceof StageNotDeployedError))
      console.error(`  ${notDeployedHint(stageArgument(argv))}`);
    return usage ? BAD_INPUT_EXIT : 1;
  }
};

const unknownCommand = (name: string): UsageError =>
  new UsageError(
    `unknown command "${name}": ${suggestion(
      name,
      COMMANDS.map((c) => c.name),
    )} (steward --help lists them)`,
  );

/** `--stage prod` or `--stage=prod` as typed, for messages written after parsing failed or finished. */
const stageArgument = (argv: readonly string[]): string | undefined => {
  const i = argv.indexOf('--stage');
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith('--stage='))?.slice('--stage='.length);
};
