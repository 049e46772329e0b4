/**
 * The steward Command document: the one script every application-consistency step runs on an instance
 * (pre, post, dump, drill check), deployed as code by infra/consistency.ts.
 *
 * Why a document of our own rather than AWS-RunShellScript: AWS-RunShellScript takes a script as its
 * `commands` parameter, so steward would have to splice config values (the bucket key, the watchdog's
 * post command) into shell text, and quoting is where injection lives. Our document declares every
 * parameter with `interpolationType: ENV_VAR`, so Systems Manager hands each value to the script as the
 * environment variable `SSM_<name>` and never substitutes it into the script text
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-syntax-data-elements-parameters.html).
 * The configured command reaches the host byte for byte and runs as written (`eval "$SSM_Command"`, the
 * operator's own command); the values steward adds (phase, run id, object URI, tags) are only ever
 * expanded inside double quotes. The role's `ssm:SendCommand` is granted on this document alone, not on
 * AWS-RunShellScript, so the backup role cannot run arbitrary scripts through another document.
 */

/** The phases the document knows. */
export const PHASES = ['pre', 'post', 'dump', 'check'] as const;
export type Phase = (typeof PHASES)[number];

/** Run ids name the watchdog's pid file: letters, digits and hyphens only. */
export const RUN_ID_PATTERN = '^[A-Za-z0-9-]{1,64}$';
/** Seconds (execution timeout, watchdog): digits only, so the one `{{ }}` the document has is inert. */
export const SECONDS_PATTERN = '^[0-9]{1,5}$';

/** SendCommand's delivery timeout: its minimum. A step not delivered by then never runs late. */
export const DELIVERY_TIMEOUT_SECONDS = 30;
// Past the delivery and execution timeouts Run Command has ended the step; this is slack for its report.
const REPORT_SLACK_SECONDS = 15;

/** The longest steward waits for a step: delivery, execution, and slack for the status to land. */
export const stepWaitSeconds = (timeoutSeconds: number): number =>
  DELIVERY_TIMEOUT_SECONDS + timeoutSeconds + REPORT_SLACK_SECONDS;

/** Where the host keeps the watchdog's pid between the pre and the post command. */
export const STATE_DIR = '/run/steward-consistency';

// POSIX sh (aws:runShellScript). `set -u` so a missing variable stops the step instead of running an empty
// command. An SSM Agent without ENV_VAR interpolation leaves SSM_Phase unset: fail closed, change nothing.
// Built on call: the functions that only read this module's constants (the backup and drill runs, the
// verifier) then do not carry the script (esbuild keeps a top-level array with a template literal).
const script = (): string[] => [
  'set -u',
  'fail() { echo "steward: $*" >&2; exit 64; }',
  '[ -n "${SSM_Phase:-}" ] || fail "this SSM Agent does not pass parameters as environment variables (interpolationType ENV_VAR): update the agent"',
  `state="\${STEWARD_STATE_DIR:-${STATE_DIR}}"`,
  'mkdir -p "$state" || fail "cannot create $state"',
  'watchdog="$state/watchdog-$SSM_RunId.pid"',
  'case "$SSM_Phase" in',
  '  pre)',
  // The watchdog: a detached process (own session, so the agent ending the step does not end it) that
  // runs the post command after WatchdogSeconds unless the post phase kills it first. It bounds the
  // freeze even if steward never comes back (its Lambda timed out or crashed between pre and post).
  '    setsid sh -c \'sleep "$1"; eval "$2"\' steward-watchdog "$SSM_WatchdogSeconds" "$SSM_PostCommand" </dev/null >/dev/null 2>&1 &',
  '    echo $! > "$watchdog"',
  '    eval "$SSM_Command"',
  '    ;;',
  '  post)',
  // setsid made the watchdog the leader of its own process group: end the group (its sleep too).
  '    if [ -f "$watchdog" ]; then kill -- "-$(cat "$watchdog")" 2>/dev/null; rm -f "$watchdog"; fi',
  '    eval "$SSM_Command"',
  '    ;;',
  '  dump)',
  // The dump streams to S3 from the instance (its instance profile writes the object). The dump's own
  // exit status is kept beside the pipe (no pipefail: the agent may run the script with a POSIX sh), so
  // a failed dump is a failed step even when `aws s3 cp` uploaded its short stream; the partial object
  // is removed so nothing half-written is left under a steward key. The command runs in a subshell so
  // its own `exit` ends only the command.
  '    rc="$state/dump-$SSM_RunId.rc"',
  '    { (eval "$SSM_Command"); echo $? > "$rc"; } | aws s3 cp - "$SSM_ObjectUri" || { aws s3 rm "$SSM_ObjectUri" >/dev/null 2>&1; fail "upload to $SSM_ObjectUri failed"; }',
  '    code="$(cat "$rc" 2>/dev/null)"; rm -f "$rc"',
  '    [ "$code" = 0 ] || { aws s3 rm "$SSM_ObjectUri" >/dev/null 2>&1; fail "dump command exited $code"; }',
  '    ;;',
  '  check)',
  '    eval "$SSM_Command"',
  '    ;;',
  '  *) fail "unknown phase" ;;',
  'esac',
];

/** The script the document runs, as one text (tests run it under a POSIX sh). */
export const documentScript = (): string => `${script().join('\n')}\n`;

const envParam = (description: string, extra: Record<string, unknown> = {}) => ({
  type: 'String',
  description,
  interpolationType: 'ENV_VAR',
  ...extra,
});

/** The document's content (schema 2.2), as CloudFormation's `AWS::SSM::Document` takes it. */
export const consistencyDocument = () => ({
  schemaVersion: '2.2',
  description:
    'steward application consistency: runs one configured command (pre, post, dump to S3, drill check) with a watchdog that always thaws',
  parameters: {
    Phase: envParam('pre, post, dump or check', { allowedValues: [...PHASES] }),
    Command: envParam('The configured command, run as written'),
    PostCommand: envParam('pre only: what the watchdog runs if no post phase comes in time', { default: '' }),
    WatchdogSeconds: envParam('pre only: seconds before the watchdog thaws', {
      default: '0',
      allowedPattern: SECONDS_PATTERN,
    }),
    RunId: envParam('Names this run on the host (the watchdog pid file)', { allowedPattern: RUN_ID_PATTERN }),
    ObjectUri: envParam('dump only: s3://bucket/key the dump streams to', { default: '' }),
    ExecutionTimeout: {
      type: 'String',
      description: 'Seconds the step may run before the agent stops it',
      default: '60',
      allowedPattern: SECONDS_PATTERN,
    },
  },
  mainSteps: [
    {
      action: 'aws:runShellScript',
      name: 'steward',
      precondition: { StringEquals: ['platformType', 'Linux'] },
      inputs: { runCommand: script(), timeoutSeconds: '{{ExecutionTimeout}}' },
    },
  ],
});

/** What one step sends: the document's parameters, each a one-element list as SendCommand takes them. */
export interface StepParameters {
  phase: Phase;
  command: string;
  runId: string;
  timeoutSeconds: number;
  /** pre: the watchdog. */
  watchdog?: { seconds: number; postCommand: string };
  /** dump: where the dump goes. */
  objectUri?: string;
}

/** SendCommand `Parameters` for one step: the configured command as it is, nothing spliced into it. */
export const stepParameters = (s: StepParameters): Record<string, string[]> => ({
  Phase: [s.phase],
  Command: [s.command],
  RunId: [s.runId],
  ExecutionTimeout: [String(s.timeoutSeconds)],
  ...(s.watchdog && {
    WatchdogSeconds: [String(s.watchdog.seconds)],
    PostCommand: [s.watchdog.postCommand],
  }),
  ...(s.objectUri !== undefined && { ObjectUri: [s.objectUri] }),
});
