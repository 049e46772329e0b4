import { snsClient } from './aws/clients/sns.js';
import { snsNotifier } from './aws/sns-notifier.js';
import { embeddedConfig } from './config/embedded.js';
import { BaseEnv, loadEnv } from './config/env.js';
import { stageDeps, type StageDeps } from './stage.js';
import type { Severity, StewardConfig } from './config/schema.js';
import { type Place, placeOf } from './fleet/place.js';
import { fanOut, notifierAt, type Notifier } from './notify/notifier.js';
import { metrics } from './observability.js';
import { once } from './once.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
const loadPagerEvents = /* @__PURE__ */ once(() => import('./aws/pager-events.js'));

/**
 * What every capability's wiring starts from. The Lambda builds it from its environment and the config
 * embedded at synth (`wireBase`); the CLI builds it from `--config`, `--stage` and flags.
 */
export interface BaseDeps extends StageDeps {
  notifier: Notifier;
}

/**
 * The deps of one invocation, placed: where it acts (a fan-out child's `target`, else the stage's region
 * and the account in the Lambda context's ARN), every notification saying so, and in a fleet every metric
 * of the invocation also under the Account and Region dimensions. Call it per invocation: a container
 * serves children of many targets, so nothing of one may stay for the next.
 */
export const atPlace = <D extends BaseDeps>(
  deps: D,
  event: unknown,
  context?: { invokedFunctionArn?: string },
): D & { place: Place } => {
  const place = placeOf(event, context, deps.config);
  metrics.setScope(
    place.fleet && place.account ? { Account: place.account, Region: place.region } : undefined,
  );
  return { ...deps, place, notifier: notifierAt(deps.notifier, place) };
};

/**
 * The pager route (shared/aws/pager-events.ts), imported at the first notification that carries a signal
 * to page or resolve: most runs page nothing, and a notification without a signal sends the pager nothing.
 * Its module brings the EventBridge client's factory: no trigger loads that client's code to send nothing.
 */
const pagerRoute = (config: StewardConfig, severities: readonly Severity[]): Notifier => {
  const pager = once(async () => {
    const { eventBridgePager, eventBridgeClient } = await loadPagerEvents();
    return eventBridgePager(eventBridgeClient(config.region), config.stage, severities);
  });
  return {
    send: async (n) => {
      // No signal, no PagerDuty event (pager.ts alertSignals: its own alerts, else one if critical).
      if (!(n.alerts ? n.alerts.length : n.severity === 'critical')) return;
      await (await pager()).send(n);
    },
  };
};

/**
 * The routes of the runbook: the severity topics (email, and chat through Amazon Q), plus the pager route
 * (PagerDuty through EventBridge) when the stage configures one.
 */
export const notifierFor = (config: StewardConfig, topics: Record<Severity, string>): Notifier => {
  const sns = snsNotifier(
    snsClient(config.region),
    topics,
    config.stage,
    config.notifications.chat?.markdown,
  );
  const pd = config.notifications.pagerDuty;
  return pd ? fanOut(sns, pagerRoute(config, pd.severities)) : sns;
};

/** Build the real base deps once per container; config errors surface here, at cold start. */
export const wireBase = (
  env: Record<string, string | undefined> = process.env,
  config: StewardConfig = embeddedConfig(),
): BaseDeps => {
  const e = loadEnv(BaseEnv, env);
  return {
    ...stageDeps(config, e),
    notifier: notifierFor(config, {
      critical: e.CRITICAL_TOPIC_ARN,
      warning: e.WARNING_TOPIC_ARN,
      info: e.INFO_TOPIC_ARN,
    }),
  };
};

export { type StageDeps, wireStage } from './stage.js';
