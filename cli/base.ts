import { readFile } from 'node:fs/promises';
import { configLocation, loadStage, type StageFile } from '../shared/config/files.js';
import { errorName, EventShapeError, StewardError } from '../shared/errors.js';
import type { StewardConfig } from '../shared/config/schema.js';
import type { Place } from '../shared/fleet/place.js';
import type { Notification, Notifier } from '../shared/notify/notifier.js';
import { notifierAt, renderNotification } from '../shared/notify/notifier.js';
import type { BaseDeps } from '../shared/runtime.js';

/** A usage mistake on the command line (exit code 2). */
export class UsageError extends StewardError {
  override name = 'UsageError';
  /** The options or arguments at fault, e.g. `--dryrun`. */
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

/**
 * Notifier for local runs: publishes nothing. It prints each message as the deployed function would send
 * it, or, in a dry run, as what would be sent; with `quiet` (--json) it only keeps them.
 */
export const printingNotifier = (
  stage: string,
  out: (s: string) => void,
  opts: { dryRun: boolean; quiet: boolean },
): Notifier & { sent: RenderedNotification[] } => {
  const sent: RenderedNotification[] = [];
  return {
    sent,
    send: async (n) => {
      const { subject, message } = renderNotification(n, stage);
      sent.push({ severity: n.severity, subject, message, sent: false });
      if (opts.quiet) return;
      // The run's own dry-run flag (the event's, or the stage's) is in the message data.
      const dry = opts.dryRun || (n.data as { dryRun?: unknown } | undefined)?.dryRun === true;
      const head = dry
        ? `[dry run: not sent; the ${n.severity} topic would get] ${subject}`
        : `[not sent (local run); the ${n.severity} topic would get] ${subject}`;
      out(`\n${head}\n${message}\n`);
    },
  };
};

/** A notification a local run printed instead of publishing. */
export interface RenderedNotification {
  severity: Notification['severity'];
  subject: string;
  message: string;
  /** Always false: local runs publish nothing. */
  sent: false;
}

/** Base deps for a local run: the stage's config, real clock, a notifier that prints instead of publishing. */
export const localBase = (
  flags: { config?: string; stage?: string; json?: boolean },
  dryRun: boolean,
  out: (s: string) => void,
  at?: { config: StewardConfig; place: Place },
): BaseDeps & { notifier: ReturnType<typeof printingNotifier> } => {
  const config = at?.config ?? stageConfig(flags).config;
  const dry = dryRun || config.dryRun;
  const printing = printingNotifier(config.stage, out, { dryRun: dry, quiet: flags.json === true });
  return {
    config,
    dryRun: dry,
    // Always a preview of what only notifies (cost alerts, the status check's open conditions), in a dry run
    // or not: a local run prints instead of publishing, so it must not record as told what the deployed
    // function is still to send. What acts (backup, retention, scaling) acts unless in a dry run.
    preview: true,
    // A placed run's messages say where, as the deployed function's do.
    notifier: at ? Object.assign(notifierAt(printing, at.place), { sent: printing.sent }) : printing,
    now: () => new Date(),
    ...(at ? { place: at.place } : {}),
  };
};

/** The stage a command works on: `--config <file or dir>` (default STEWARD_CONFIG, else ./config) and `--stage`. */
export const stageConfig = (flags: { config?: string; stage?: string }): StageFile =>
  loadStage(configLocation(flags.config), flags.stage);

/** Read and parse a JSON file, naming the option that named it (`--event`) and the file in any error. */
export const readJson = async (path: string, option?: string): Promise<unknown> => {
  const what = option ? `${option} ${path}` : path;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `${what}: no such file`
        : code === 'EISDIR'
          ? `${what}: is a directory, not a JSON file`
          : `${what}: cannot read it: ${(e as Error).message}`,
      option ? [option] : [],
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EventShapeError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
};

const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'CredentialsError']);

/** Whether the error, or one it wraps (AwsCallError, a partial failure's first), is named one of `names`. */
const causedBy = (e: unknown, names: ReadonlySet<string>): boolean => {
  let at: unknown = e;
  for (let depth = 0; depth < 5 && at; depth++) {
    if (names.has(errorName(at))) return true;
    at = (at as { cause?: unknown }).cause;
  }
  return false;
};

/** The SDK found no credentials. */
export const isNoCredentials = (e: unknown): boolean => causedBy(e, NO_CREDENTIALS);

const NOT_FOUND = new Set(['ResourceNotFoundException', 'NoSuchBucket', 'StateMachineDoesNotExist']);

/** A table, bucket or state machine the stage deploys was not there: likely not deployed here. */
export const isNotDeployed = (e: unknown): boolean => causedBy(e, NOT_FOUND);

/** Where a command looked for a resource its stage deploys, and did not find it. */
export interface LookedFor {
  /** What it looked for: `state table steward-prod-state`, `function steward-prod-scaling`. */
  resource: string;
  /** The account it looked in; undefined when the credentials' account could not be read either. */
  account?: string;
  region: string;
  /** `--config` as given, for the deploy command. */
  config?: string;
}

/**
 * What to check when a resource the stage deploys is missing: what was looked for and where, when the command
 * knows (`steward scale`, `steward approve`), and the deploy command.
 */
export const notDeployedHint = (stage: string | undefined, looked?: LookedFor): string => {
  const deploy = `npx cdk deploy --all -c config=${looked?.config ?? '<dir>'} -c stage=${stage ?? '<name>'}`;
  if (!looked || !stage)
    return `not found in AWS: is ${stage ? `stage ${stage}` : 'the stage'} deployed in this account and region? (${deploy})`;
  // The stack's name is infra/stack.ts's stackId (not imported: it would load the CDK into every command).
  return (
    `not found in AWS: ${looked.resource} (stack Steward-${stage}) in account ` +
    `${looked.account ?? 'of these credentials'}, region ${looked.region}: is stage ${stage} deployed there? (${deploy})`
  );
};

/** A resource the stage deploys was not where a command looked: the message is notDeployedHint's, naming it. */
export class StageNotDeployedError extends StewardError {
  override name = 'StageNotDeployed';
}

/** What a user without credentials can do: give steward some, or use what runs without AWS. */
export const NO_CREDENTIALS_HINT =
  'no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); without AWS: ' +
  'steward plan --inventory <file>, steward status --local, steward report --local, npm start';
