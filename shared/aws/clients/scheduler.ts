import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { type ClientOptions, http, memo } from './kit.js';

/** One EventBridge Scheduler client per region per container (pre-maintenance snapshots). */
export const schedulerClient = (region: string, o?: ClientOptions): SchedulerClient =>
  memo('scheduler', region, o, () => new SchedulerClient({ region, ...http(o) }));
