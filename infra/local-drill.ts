// aws-local-stepfunctions needs Promise.withResolvers (Node 22+): shim it for Node 20 before the library runs.
import './node20-compat.js';
import { ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import type { DrillTaskEvent } from '../shared/drill/state.js';

/** An Amazon States Language document, as parsed JSON. */
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  [key: string]: unknown;
}
export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Next?: string;
  End?: boolean;
  Retry?: { ErrorEquals: string[]; [key: string]: unknown }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  Choices?: { Next: string; [key: string]: unknown }[];
  Default?: string;
  TimeoutSeconds?: number;
  [key: string]: unknown;
}

/** Stand-ins for the ARNs CloudFormation resolves at deploy time. */
export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT = '000000000000';
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** `arn:aws:lambda:local:000000000000:function:<LogicalId>`: what a function's `Fn::GetAtt Arn` becomes. */
export const localFunctionArn = (logicalId: string): string =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;

export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** Parse the `DefinitionString` of the state machine named `stateMachineName` in a synthesized template. */
export const definitionFromTemplate = (template: CfnTemplate, stateMachineName: string): AslDefinition => {
  const machines = Object.values(template.Resources).filter(
    (r) =>
      r.Type === 'AWS::StepFunctions::StateMachine' && r.Properties?.StateMachineName === stateMachineName,
  );
  if (machines.length !== 1)
    throw new Error(`Expected one state machine ${stateMachineName}, found ${machines.length}`);
  const resolve = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const o = (node ?? {}) as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [delimiter, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(delimiter);
    }
    if (o['Fn::GetAtt']) {
      const [id, attribute] = o['Fn::GetAtt'] as [string, string];
      const type = template.Resources[id]?.Type;
      if (type === 'AWS::Lambda::Function' && attribute === 'Arn') return localFunctionArn(id);
      return `arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${type ?? 'unknown'}:${id}.${attribute}`;
    }
    if (typeof o.Ref === 'string') return PSEUDO[o.Ref] ?? o.Ref;
    throw new Error(`Unsupported intrinsic in DefinitionString: ${JSON.stringify(node)}`);
  };
  return JSON.parse(resolve(machines[0]!.Properties?.DefinitionString)) as AslDefinition;
};

/** Throw this from the `await` handler to say "no event arrived in time": the Catch → CheckRestore path runs. */
export class TaskTimedOut extends Error {
  override name = 'States.Timeout';
  constructor(message = 'The task token was not completed before the task timeout (local)') {
    super(message);
  }
}

/** Progress of a local execution, one per state transition. */
export interface LocalDrillEvent {
  state: string;
  type: 'entered' | 'succeeded' | 'failed' | 'caught' | 'retry';
  /** Epoch milliseconds. */
  at: number;
  /** `Error: Cause` of a failed state. */
  error?: string;
}

export interface LocalTaskContext {
  /** The Task state being run (`Restore`, `WaitForRestore`, ...). */
  stateName: string;
  /** The placeholder ARN of the function the state invokes. */
  functionArn: string;
}

export interface RunDrillLocallyOptions {
  definition: AslDefinition;
  /** Execution input (`DrillInput`). */
  input: unknown;
  /**
   * Runs one task: receives the resolved Payload exactly as the Lambda function would (`{ task, state,
   * execution }`, plus `taskToken` for the wait). Its result is the task's output; a throw is the function's
   * error (`Error` = the error's name). For a waitForTaskToken task, the result is what SendTaskSuccess would
   * send, a throw is SendTaskFailure, and a `TaskTimedOut` (name `States.Timeout`) is the task timing out.
   */
  tasks: (event: DrillTaskEvent, context: LocalTaskContext) => Promise<unknown>;
  /** `$$.Execution.Name`: the drill id. */
  executionName: string;
  /**
   * The local pollSeconds: a waitForTaskToken task whose handler has not settled after this long fails with
   * States.Timeout. Default: the state's own TimeoutSeconds (real time).
   */
  waitMs?: number;
  /** Pause before a Retry (overrides IntervalSeconds/BackoffRate). @default 0 */
  retryMs?: number;
  /** Pause of a Wait state (the EBS drill's poll interval), overriding its seconds. Default: as defined. */
  pollMs?: number;
  onEvent?: (e: LocalDrillEvent) => void;
  /** Abort the execution (e.g. on Ctrl-C); it then ends FAILED with `ExecutionAborted`. */
  signal?: AbortSignal;
}

export interface LocalDrillResult {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: { Error: string; Cause?: string };
  /** Every state entered, in order (a retried state appears once per entry, not per attempt). */
  path: string[];
}

/** The library's JSON value type (not exported by name). */
type Json = Parameters<StateMachine['run']>[0];

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const WAIT_FOR_TOKEN = '.waitForTaskToken';

/**
 * Run the drill definition with aws-local-stepfunctions: every Task state calls `tasks` instead of Lambda.
 * Retry, Catch, Choice and ResultPath behave as the library implements the States Language; the token wait
 * is emulated as one call whose settling (or `waitMs` elapsing) completes the token.
 */
export const runDrillLocally = async (o: RunDrillLocallyOptions): Promise<LocalDrillResult> => {
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  const waitTimeOverrides: Record<string, number> = {};
  let tokens = 0;
  for (const [stateName, state] of Object.entries(o.definition.States)) {
    if (state.Retry) retryIntervalOverrides[stateName] = o.retryMs ?? 0;
    if (state.Type === 'Wait' && o.pollMs !== undefined) waitTimeOverrides[stateName] = o.pollMs;
    if (state.Type !== 'Task') continue;
    const resource = state.Resource ?? '';
    const waitForToken = resource === `${LAMBDA_INVOKE}${WAIT_FOR_TOKEN}`;
    const integration = resource === LAMBDA_INVOKE || waitForToken;
    handlers[stateName] = async (input) => {
      // payloadResponseOnly: Resource is the function and the input is the Payload itself. Integration form:
      // the library hands over the resolved Parameters, { FunctionName, Payload }.
      const params = input as { FunctionName?: string; Payload?: unknown };
      const event = structuredClone((integration ? params.Payload : input) as DrillTaskEvent);
      // The library's context has one static token; a real wait gets a fresh one per attempt.
      if (waitForToken) event.taskToken = `local:${o.executionName}:${stateName}:${++tokens}`;
      const context = { stateName, functionArn: integration ? String(params.FunctionName) : resource };
      try {
        const call = o.tasks(event, context);
        const output = waitForToken && o.waitMs !== undefined ? await within(call, o.waitMs) : await call;
        // A plain lambda:invoke (not payloadResponseOnly) wraps the function result.
        return (resource === LAMBDA_INVOKE ? { Payload: output, StatusCode: 200 } : output) as Json;
      } catch (e) {
        throw stepFunctionsError(e, waitForToken);
      }
    };
  }

  const machine = new StateMachine(o.definition as unknown as ConstructorParameters<typeof StateMachine>[0], {
    validationOptions: { checkArn: false, checkPaths: false },
  });
  const execution = machine.run(o.input as Json, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides, waitTimeOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:local-drill:${o.executionName}`,
        Name: o.executionName,
      },
      StateMachine: {
        Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:local-drill`,
        Name: 'local-drill',
      },
      Task: { Token: 'local' },
    },
  });
  const abort = () => execution.abort();
  o.signal?.addEventListener('abort', abort, { once: true });

  const path: string[] = [];
  let failure: { Error: string; Cause?: string } | undefined;
  const watch = (async () => {
    const caught = new Set<string>();
    for await (const e of execution.eventLogs) {
      const emit = (state: string, type: LocalDrillEvent['type'], error?: string) =>
        o.onEvent?.({ state, type, at: e.timestamp, ...(error !== undefined && { error }) });
      switch (e.type) {
        case 'StateEntered':
          path.push(e.state.name);
          caught.delete(e.state.name);
          emit(e.state.name, 'entered');
          break;
        case 'StateExited':
          // The library also "exits" a state whose error was caught; that was reported as `caught`.
          if (!caught.delete(e.state.name)) emit(e.state.name, 'succeeded');
          break;
        case 'StateFailed':
          emit(e.state.name, 'failed', `${e.Error}: ${text(e.Cause)}`);
          break;
        case 'StateRetried':
          emit(e.state.name, 'retry');
          break;
        case 'StateCaught':
          caught.add(e.state.name);
          emit(e.state.name, 'caught');
          break;
        case 'ExecutionFailed':
          failure = { Error: e.Error, Cause: text(e.Cause) };
          break;
        default:
          break;
      }
    }
  })();

  try {
    const output = await execution.result;
    await watch;
    return { status: 'SUCCEEDED', output, path };
  } catch (e) {
    await watch;
    if (e instanceof ExecutionTimeoutError) {
      return { status: 'FAILED', error: { Error: 'States.Timeout', Cause: 'The execution timed out' }, path };
    }
    const aborted = e instanceof Error && e.name === 'ExecutionAbortedError';
    const error = aborted
      ? { Error: 'ExecutionAborted', Cause: 'The execution was aborted' }
      : (failure ?? {
          Error: e instanceof Error ? e.name : 'Error',
          Cause: e instanceof Error ? e.message : String(e),
        });
    return { status: 'FAILED', error, path };
  } finally {
    o.signal?.removeEventListener('abort', abort);
  }
};

const text = (cause: unknown): string =>
  typeof cause === 'string' ? cause : cause === undefined ? '' : JSON.stringify(cause);

/** Settle with `call`, or fail with States.Timeout after `ms`. */
const within = async <T>(call: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TaskTimedOut()), ms);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * The error as Step Functions would see it: `Error` is the error's name. A function error's `Cause` is
 * Lambda's JSON error document; a token failure's (SendTaskFailure) is the message as sent.
 */
const stepFunctionsError = (e: unknown, tokenFailure: boolean): Error => {
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  const out = new Error(
    name === 'States.Timeout' || tokenFailure
      ? message
      : JSON.stringify({ errorType: name, errorMessage: message }),
  );
  out.name = name;
  return out;
};
