import { CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { BackupScheduler } from '../backup/ports.js';
import { attempt } from './call.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { schedulerClient } from './clients/scheduler.js';

/** Where one-time schedules go and what they invoke. */
export interface SchedulerTarget {
  /** The stage's schedule group. */
  group: string;
  /** The function the schedule invokes. */
  functionArn: string;
  /** The role EventBridge Scheduler assumes to invoke it (iam:PassRole). */
  roleArn: string;
  /** Where an invocation that failed every retry is parked. */
  deadLetterArn?: string;
}

/** `at(yyyy-mm-ddThh:mm:ss)`: Scheduler's one-time expression, whole seconds, in the schedule's time zone. */
export const atExpression = (d: Date): string => `at(${d.toISOString().slice(0, 19)})`;

/**
 * BackupScheduler over EventBridge Scheduler: one-time `at()` schedules in UTC that delete themselves after
 * they ran (ActionAfterCompletion DELETE), so nothing accumulates. A name already taken is an earlier
 * delivery of the same event: `exists`.
 */
export const schedulerBackup = (scheduler: SchedulerClient, t: SchedulerTarget): BackupScheduler => ({
  scheduleOnce: async (s) => {
    const r = await attempt(
      'CreateSchedule',
      `schedule ${t.group}/${s.name}`,
      () =>
        scheduler.send(
          new CreateScheduleCommand({
            Name: s.name,
            GroupName: t.group,
            Description: s.description.slice(0, 512),
            ScheduleExpression: atExpression(s.at),
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            State: 'ENABLED',
            Target: {
              Arn: t.functionArn,
              RoleArn: t.roleArn,
              Input: JSON.stringify(s.payload),
              RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
              ...(t.deadLetterArn ? { DeadLetterConfig: { Arn: t.deadLetterArn } } : {}),
            },
          }),
        ),
      { exists: ['ConflictException'] },
    );
    return r.ok ? 'created' : 'exists';
  },
});
