// aws-local-stepfunctions needs Promise.withResolvers (Node 22+): shim it for Node 20 before the library runs.
import './node20-compat.js';
import { StateMachine } from 'aws-local-stepfunctions';
import type { AslDefinition, AslState } from './local-drill.js';

// The fan-out's definition as synth renders it, run with aws-local-stepfunctions. The library runs a Map
// state inline only: it reads ItemsPath, applies ItemSelector and MaxConcurrency and runs the ItemProcessor
// per item, but it has no ItemReader, no ResultWriter, no ToleratedFailurePercentage, and one failing
// item fails the whole Map. What it lacks is emulated here, as close to the service as the Developer Guide
// describes it: every child's failure is kept (not fatal), the children's executions are exported as
// ResultWriter does (manifest.json + SUCCEEDED_0.json / FAILED_0.json, Input and Output as JSON strings),
// the Map Run fails with States.ExceedToleratedFailureThreshold only when the failed share exceeds the
// tolerated percentage, and the Map state's output is { MapRunArn, ResultWriterDetails: { Bucket, Key } }.
// The children's ExecutionType (STANDARD, or EXPRESS for the scale-in check) changes their billing, history and
// 5-minute limit, not what runs: the same definition runs here either way (infra/fan-out.ts bounds an Express
// child's time at synth).

/** The library's JSON value type (not exported by name). */
type Json = Parameters<StateMachine['run']>[0];

/** One Lambda invoke as the function would receive it, and the state that sent it. */
export interface LocalInvoke {
  stateName: string;
  functionArn: string;
  payload: unknown;
}

export interface RunFanOutLocallyOptions {
  definition: AslDefinition;
  /** Execution input: the capability's scheduled event. */
  input: unknown;
  /** Runs one Lambda invoke: its result is the function's, a throw is the function's error (`name` = errorType). */
  invoke: (call: LocalInvoke) => Promise<unknown>;
  /** Where the emulated ResultWriter writes (bucket/key → body); the summary reads it back. */
  objects: Map<string, string>;
  /**
   * SQS's answer to one SendMessage: a throw is its refusal (`name` = the error Step Functions records, e.g.
   * `SQS.AmazonSQSException`). @default every message accepted
   */
  sqs?: (message: LocalMessage) => void | Promise<void>;
  /** Every Retry's interval, in ms (the service's own intervals by default: seconds to minutes). */
  retryMs?: number;
}

/** One SQS SendMessage a task state sent (the optimized integration's parameters). */
export interface LocalMessage {
  stateName: string;
  queueUrl: string;
  body: unknown;
}

export interface LocalFanOutResult {
  status: 'SUCCEEDED' | 'FAILED';
  /** Every message the definition's SQS SendMessage tasks sent, in order. */
  messages: LocalMessage[];
  output?: unknown;
  error?: { Error: string; Cause?: string };
  /** The Map Run's export, as written. */
  manifestKey?: string;
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const SQS_SEND = 'arn:aws:states:::sqs:sendMessage';
const CHILD_FAILED = 'LocalChildFailed';
const RESULT_WRITER = 'LocalResultWriter';
const LOCAL_ERROR = '$.localChildError';
const CHILDREN = '$.localChildren';

interface ChildOutput {
  localChildError?: { Error: string; Cause?: string };
  [key: string]: unknown;
}

/** Find the one Distributed Map of the definition. */
const distributedMap = (d: AslDefinition): [string, AslState] => {
  const maps = Object.entries(d.States).filter(
    ([, s]) =>
      (s.ItemProcessor as { ProcessorConfig?: { Mode?: string } })?.ProcessorConfig?.Mode === 'DISTRIBUTED',
  );
  if (maps.length !== 1) throw new Error(`Expected one Distributed Map, found ${maps.length}`);
  return maps[0]!;
};

/** The definition the library can run: the Map inline with its children's failures kept, then the export. */
const localDefinition = (d: AslDefinition): AslDefinition => {
  const out = structuredClone(d);
  const [name, map] = distributedMap(out);
  const processor = map.ItemProcessor as { StartAt: string; States: Record<string, AslState> };
  // A child's failure ends the child (as a failed execution), not the Map: caught into its output.
  for (const s of Object.values(processor.States))
    if (s.Type === 'Task')
      s.Catch = [{ ErrorEquals: ['States.ALL'], ResultPath: LOCAL_ERROR, Next: CHILD_FAILED }];
  processor.States[CHILD_FAILED] = { Type: 'Pass', End: true };
  const { ResultWriter, ToleratedFailurePercentage, Label, ResultPath, Next, Catch, End, ...inline } =
    map as AslState & {
      ResultWriter?: { Parameters?: { Bucket?: string; Prefix?: string } };
    };
  out.States[name] = {
    ...inline,
    ItemProcessor: { StartAt: processor.StartAt, States: processor.States },
    ResultPath: CHILDREN,
    Next: RESULT_WRITER,
  };
  out.States[RESULT_WRITER] = {
    Type: 'Task',
    Resource: 'arn:aws:states:::local:result-writer',
    Parameters: {
      'children.$': CHILDREN,
      bucket: ResultWriter?.Parameters?.Bucket ?? 'local-bucket',
      prefix: ResultWriter?.Parameters?.Prefix ?? '',
      toleratedFailurePercentage: ToleratedFailurePercentage ?? 0,
      label: Label ?? name,
    },
    ResultPath: ResultPath ?? '$',
    ...(Catch ? { Catch } : {}),
    ...(Next ? { Next } : { End: End ?? true }),
  };
  return out;
};

/** The error as Step Functions records a Lambda function error: Error = its name, Cause = Lambda's JSON document. */
const functionError = (e: unknown): Error => {
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  const out = new Error(JSON.stringify({ errorType: name, errorMessage: message }));
  out.name = name;
  return out;
};

/**
 * Run the fan-out definition locally over its targets: every Lambda task calls `invoke`; the Distributed
 * Map's missing features are emulated as described above.
 */
export const runFanOutLocally = async (o: RunFanOutLocallyOptions): Promise<LocalFanOutResult> => {
  const definition = localDefinition(o.definition);
  const [mapName, map] = distributedMap(o.definition);
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  const lambdaTask = (stateName: string, state: AslState) => {
    const integration = state.Resource === LAMBDA_INVOKE;
    handlers[stateName] = async (input) => {
      const params = input as { FunctionName?: string; Payload?: unknown };
      const call = {
        stateName,
        functionArn: integration ? String(params.FunctionName) : String(state.Resource),
        payload: structuredClone(integration ? params.Payload : input),
      };
      try {
        const output = await o.invoke(call);
        return (integration ? { Payload: output, StatusCode: 200 } : output) as Json;
      } catch (e) {
        throw functionError(e);
      }
    };
  };
  // An SQS SendMessage task (the optimized integration): kept, as SQS would keep the message.
  const messages: LocalMessage[] = [];
  const sqsTask = (stateName: string) => {
    handlers[stateName] = async (input) => {
      const params = input as { QueueUrl?: unknown; MessageBody?: unknown };
      const message = {
        stateName,
        queueUrl: String(params.QueueUrl),
        body: structuredClone(params.MessageBody),
      };
      await o.sqs?.(message);
      messages.push(message);
      return { MessageId: `local-${messages.length}` } as Json;
    };
  };
  const processor = (map.ItemProcessor as { States: Record<string, AslState> }).States;
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [n, s] of [...Object.entries(definition.States), ...Object.entries(processor)]) {
    if (s.Type === 'Task' && n !== RESULT_WRITER) {
      if (s.Resource === SQS_SEND) sqsTask(n);
      else lambdaTask(n, s);
    }
    if (s.Retry && o.retryMs !== undefined) retryIntervalOverrides[n] = o.retryMs;
  }

  let manifestKey: string | undefined;
  handlers[RESULT_WRITER] = async (input) => {
    const p = input as unknown as {
      children: (ChildOutput & { event?: unknown; item?: unknown })[];
      bucket: string;
      prefix: string;
      toleratedFailurePercentage: number;
      label: string;
    };
    const runId = `local-${Date.now().toString(36)}`;
    const dir = `${p.prefix.replace(/\/?$/, '/')}${runId}/`;
    const execution = (c: ChildOutput, i: number) => {
      const { localChildError, ...output } = c;
      const childInput = { event: output.event, item: output.item };
      return {
        ExecutionArn: `arn:aws:states:local:000000000000:execution:${mapName}/${p.label}:${i}`,
        Input: JSON.stringify(childInput),
        Status: localChildError ? 'FAILED' : 'SUCCEEDED',
        ...(localChildError
          ? { Error: localChildError.Error, Cause: localChildError.Cause ?? '' }
          : { Output: JSON.stringify(output) }),
      };
    };
    const all = p.children.map(execution);
    const succeeded = all.filter((c) => c.Status === 'SUCCEEDED');
    const failed = all.filter((c) => c.Status === 'FAILED');
    const files: Record<string, { Key: string; Size: number }[]> = { SUCCEEDED: [], FAILED: [], PENDING: [] };
    for (const [status, list] of [
      ['SUCCEEDED', succeeded],
      ['FAILED', failed],
    ] as const) {
      if (!list.length) continue;
      const key = `${dir}${status}_0.json`;
      const body = JSON.stringify(list);
      o.objects.set(`${p.bucket}/${key}`, body);
      files[status]!.push({ Key: key, Size: body.length });
    }
    const mapRunArn = `arn:aws:states:local:000000000000:mapRun:${mapName}/${p.label}:${runId}`;
    manifestKey = `${dir}manifest.json`;
    o.objects.set(
      `${p.bucket}/${manifestKey}`,
      JSON.stringify({ DestinationBucket: p.bucket, MapRunArn: mapRunArn, ResultFiles: files }),
    );
    // The Map Run fails when the failed share exceeds the tolerated percentage (its results still written).
    if (all.length && (failed.length / all.length) * 100 > p.toleratedFailurePercentage) {
      const e = new Error(
        `The tolerated failure threshold was exceeded: ${failed.length} of ${all.length} items failed`,
      );
      e.name = 'States.ExceedToleratedFailureThreshold';
      throw e;
    }
    return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: p.bucket, Key: manifestKey } } as Json;
  };

  const machine = new StateMachine(definition as unknown as ConstructorParameters<typeof StateMachine>[0], {
    validationOptions: { checkArn: false, checkPaths: false, noValidate: true },
  });
  const execution = machine.run(o.input as Json, {
    overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
    // The context object a state may read ($$.Execution.Id: the summary's parked message names it).
    context: {
      Execution: {
        Id: 'arn:aws:states:local:000000000000:execution:local-fan-out:local',
        Name: 'local',
      },
      StateMachine: {
        Id: 'arn:aws:states:local:000000000000:stateMachine:local-fan-out',
        Name: 'local-fan-out',
      },
    },
  });
  try {
    const output = await execution.result;
    return { status: 'SUCCEEDED', output, messages, ...(manifestKey ? { manifestKey } : {}) };
  } catch (e) {
    const err = e as { name?: string; message?: string; cause?: { name?: string; message?: string } };
    const inner = err.cause ?? err;
    return {
      status: 'FAILED',
      messages,
      error: { Error: inner.name ?? 'Error', Cause: inner.message ?? '' },
      ...(manifestKey ? { manifestKey } : {}),
    };
  }
};
