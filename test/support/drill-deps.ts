import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import type { DrillDeps } from '../../shared/drill/task-core.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { fakeReportStore, fakeRestorePort, fakeTaskSignal, fakeTokenStore } from '../fakes/drill-ports.js';

// The drill function's `run` as its handler tests call it (test/functions/drill/handler.test.ts and
// lazy-tasks.test.ts): a prod stage that drills orders-db, over in-memory ports. Imports no drill task's code.

/** The clock of the drill tests: a few seconds after the monthly drill started. */
export const DRILL_NOW = new Date('2026-02-01T05:00:05Z');

/** A prod stage in eu-west-1 that drills orders-db (database `app`, RPO one day). */
export const drillConfigInput = {
  stage: 'prod',
  region: 'eu-west-1',
  drill: { targets: { 'orders-db': { profile: { database: 'app' }, rpoSeconds: 86_400 } } },
} satisfies StewardConfigInput;

/** The drill's deps over in-memory ports at DRILL_NOW, not a dry run; `over` replaces any of them. */
export const fakeDrillDeps = (over: Partial<DrillDeps> = {}): DrillDeps => ({
  config: parseConfig(drillConfigInput, 'test'),
  dryRun: false,
  notifier: memoryNotifier(),
  now: () => DRILL_NOW,
  restore: fakeRestorePort(),
  tokens: fakeTokenStore(),
  signal: fakeTaskSignal(),
  reports: fakeReportStore(),
  network: {},
  ...over,
});
