import {
  type GetCommandInvocationCommandOutput,
  GetCommandInvocationCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { DELIVERY_TIMEOUT_SECONDS, stepParameters, stepWaitSeconds } from '../backup/consistency-document.js';
import type { DumpTagger, StepRequest, StepResult, StepRunner } from '../backup/consistency.js';
import { clip } from '../errors.js';
import { sleep as realSleep } from '../retry.js';
import { tagList, type Tags } from '../tags.js';
import { attempt, call } from './call.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { ssmClient } from './clients/ssm.js';

/**
 * Run Command as the StepRunner port: SendCommand with steward's document, then GetCommandInvocation
 * until the step ends, bounded.
 *
 * Why polling and not the "EC2 Command Invocation Status-change Notification" event: the freeze must end
 * within one Lambda run, and EventBridge delivers Systems Manager events on a best-effort basis
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/reference-eventbridge-events.html), so
 * an event would need a state machine, a timeout path and a poll fallback anyway. A step lasts seconds;
 * a few GetCommandInvocation calls keep it in one run, and Run Command has no charge on EC2 instances
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/run-command.html).
 */

// Poll interval: quick at first (a freeze is seconds long), then every 5 s.
const POLL_MS = [500, 1000, 1000, 2000, 3000, 5000];
/** Characters of a step's stderr and stdout kept for the report. */
export const OUTPUT_CHARS = 1000;

// The bounds live beside the document (pure code, e.g. the EBS verifier, sizes its own bound by them).
export { DELIVERY_TIMEOUT_SECONDS, stepWaitSeconds };

const ENDED: Record<string, StepResult['status'] | undefined> = {
  Success: 'success',
  Failed: 'failed',
  Cancelled: 'cancelled',
  Cancelling: 'cancelled',
  TimedOut: 'timed-out',
};

const resultOf = (r: GetCommandInvocationCommandOutput): StepResult | undefined => {
  let status = ENDED[r.Status ?? ''];
  if (!status) return undefined;
  // TimedOut covers both "Delivery Timed Out" (it never ran) and "Execution Timed Out".
  if (status === 'timed-out' && /delivery/i.test(r.StatusDetails ?? '')) status = 'undelivered';
  const err = r.StandardErrorContent?.trim();
  const out = r.StandardOutputContent?.trim();
  const detail = [r.StatusDetails, err && clip(err.slice(-OUTPUT_CHARS), OUTPUT_CHARS)].filter(Boolean);
  return {
    status,
    ...(detail.length && { detail: detail.join(': ') }),
    ...(out && { output: out.slice(-OUTPUT_CHARS) }),
  };
};

export interface StepRunnerOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Run steward's consistency document on one instance per step, waiting for its end (bounded). */
export const ssmStepRunner = (
  ssm: SSMClient,
  documentName: string,
  o: StepRunnerOptions = {},
): StepRunner => {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  return {
    run: async (step: StepRequest): Promise<StepResult> => {
      const sent = await call('SendCommand', step.instanceId, () =>
        ssm.send(
          new SendCommandCommand({
            DocumentName: documentName,
            InstanceIds: [step.instanceId],
            Parameters: stepParameters(step),
            TimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
            Comment: `steward ${step.phase} ${step.runId}`.slice(0, 100),
          }),
        ),
      );
      const commandId = sent.Command?.CommandId;
      if (!commandId) return { status: 'undelivered', detail: 'SendCommand returned no command id' };
      const until = now() + stepWaitSeconds(step.timeoutSeconds) * 1000;
      for (let i = 0; now() < until; i++) {
        await sleep(POLL_MS[Math.min(i, POLL_MS.length - 1)]!);
        // The invocation appears a moment after SendCommand returns: "does not exist" is "not yet".
        const r = await attempt(
          'GetCommandInvocation',
          `${commandId} on ${step.instanceId}`,
          () =>
            ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: step.instanceId })),
          { gone: ['InvocationDoesNotExist'] },
        );
        const ended = r.ok ? resultOf(r.value) : undefined;
        if (ended) return ended;
      }
      return {
        status: 'timed-out',
        detail: `no end state within ${stepWaitSeconds(step.timeoutSeconds)} s (command ${commandId})`,
      };
    },
  };
};

/** Tag dump objects with PutObjectTagging (the host wrote them; steward marks them as its own). */
export const s3DumpTagger = (s3: S3Client): DumpTagger => ({
  tag: async (bucket: string, key: string, tags: Tags) => {
    await call('PutObjectTagging', `s3://${bucket}/${key}`, () =>
      s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet: tagList(tags) } })),
    );
  },
});

/** steward's freeze watchdog timer: resolves after `ms`, or never once `signal` aborts (no timer left behind). */
export const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => clearTimeout(t), { once: true });
  });
