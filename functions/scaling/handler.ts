import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ClientIdentity } from '../../shared/aws/clients/kit.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { scalingResourcesOf } from '../../shared/aws/scaling-resources.js';
import { rdsClient, rdsScaling } from '../../shared/aws/rds-scaling.js';
import { dynamoScalingStore } from '../../shared/aws/scaling-store.js';
import { loadEnv } from '../../shared/config/env.js';
import { injectLambdaContext, logger, logMetrics, metrics } from '../../shared/observability.js';
import { once } from '../../shared/once.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { atPlace, type BaseDeps, wireBase } from '../../shared/runtime.js';
import { fleetWiring as fleetWiringOf, type TargetWiring } from '../../shared/aws/fleet-sessions.js';
import { type FleetWiring, runFleetEvent } from '../../shared/fleet/child.js';
import { ScalingEnv } from '../../shared/scaling/env.js';
import { isAlarmTransition, parseAlarmTransition } from '../../shared/scaling/alarm-event.js';
import type { ScalingResources } from '../../shared/scaling/ports.js';
import { runScaling, type ScalingDeps, type ScalingResult } from '../../shared/scaling/service.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
const loadRequest = /* @__PURE__ */ once(() => import('../../shared/scaling/request.js'));
const loadCloudwatchAlarms = /* @__PURE__ */ once(() => import('../../shared/aws/cloudwatch-alarms.js'));
const loadRunReports = /* @__PURE__ */ once(() => import('../../shared/aws/run-reports.js'));
const loadElastiCacheScaling = /* @__PURE__ */ once(() => import('../../shared/aws/elasticache-scaling.js'));
// The alarm, run-report and ElastiCache adapter modules bring the factory of the SDK client they send through:
// a run that reads no alarm, writes no report and acts on no replication group parses no CloudWatch, S3 or
// ElastiCache client code (test/infra/bundles.test.ts).

export type { ScalingDeps, ScalingResult };

/**
 * An EventBridge alarm state or configuration change, a CloudWatch Lambda alarm action, an SNS-delivered
 * alarm notification, an RDS failover event, or a direct payload (`run-playbook`, `approve`,
 * `scale-in-check`). Unknown alarms and malformed events throw before anything is read or changed, except an
 * alarm action no rule answers: the stage's alarms may invoke the function by name prefix, so it is ignored, said.
 */
export const run = async (event: unknown, deps: ScalingDeps): Promise<ScalingResult> => {
  const { scaling } = deps.config;
  // An alarm's transition is parsed without the schemas of the other triggers (imported for those).
  const req = isAlarmTransition(event)
    ? parseAlarmTransition(event as Record<string, unknown>, scaling, deps.now())
    : (await loadRequest()).parseScalingRequest(event, scaling, deps.now());
  return runScaling(req, deps);
};

/**
 * The RDS and ElastiCache adapters, each built when a rule of its kind first describes or changes its
 * resource (an alarm a guard stops, a stale or duplicate one, describes nothing). The RDS adapter and the
 * dispatch are imported with the handler, not by `await import()`: loading them on first use cost an alarm
 * that acts more CPU than their few KB cost to parse at every cold start (docs/benchmarks.md). The ElastiCache
 * adapter is loaded by the first rule on a replication group: with it comes ElastiCache's SDK client (about
 * 40 KB), which an alarm on a database never sends through.
 */
const scalingResources = (region: string, as?: ClientIdentity): ScalingResources =>
  scalingResourcesOf(
    region,
    once(async () => rdsScaling(region, rdsClient(region, undefined, as))),
    once(async () => {
      const { elastiCacheClient, elastiCacheScaling } = await loadElastiCacheScaling();
      return elastiCacheScaling(region, elastiCacheClient(region, undefined, as));
    }),
  );

/**
 * Real adapters for `config.region`; the state table comes from the environment, and the report bucket,
 * when the stage has one, keeps the full report of a run that summarises many decisions. A spoke's alarm
 * forwarded to the hub (`at`, shared/fleet/child.ts): the RDS, ElastiCache and CloudWatch clients sign with
 * the spoke's scaling role in the target's region; the state table and report bucket stay the hub's, and
 * every scaling key there names the target's account and region (so two accounts' alarms of one name, or
 * resources of one id, never share a seen event, a cooldown, an alarm state or an approval).
 */
export const wire = (
  base: BaseDeps,
  env: Pick<ScalingEnv, 'STATE_TABLE' | 'REPORT_BUCKET'> = loadEnv(ScalingEnv),
  at?: TargetWiring,
): ScalingDeps => {
  const { region } = base.config;
  const hubRegion = at?.hubRegion ?? region;
  const as = at?.as;
  // The hub's own account-region (no role to assume) keeps its keys as a single-account stage has them.
  const place = at?.target.roleArn ? { account: at.target.account, region: at.target.region } : undefined;
  const alarms = once(async () => {
    const { cloudWatchAlarms, cloudWatchClient } = await loadCloudwatchAlarms();
    return cloudWatchAlarms(cloudWatchClient(region, undefined, as), region);
  });
  const bucket = env.REPORT_BUCKET;
  const reports =
    bucket &&
    once(async () => {
      const { s3RunReports, s3Client } = await loadRunReports();
      return s3RunReports(s3Client(hubRegion), bucket, hubRegion);
    });
  return {
    ...base,
    resources: scalingResources(region, as),
    state: dynamoScalingStore(stateTableClient(hubRegion), env.STATE_TABLE, base.now, place),
    // Described for an alarm whose event does not say which side of its band it breached, and by the
    // scale-in check, which confirms its alarms are OK now before stepping back (100 names a call).
    alarms: {
      comparison: async (name) => (await alarms()).comparison(name),
      states: async (names) => (await alarms()).states!(names),
    },
    // Written only by a run with more decisions than its messages carry (a scale-in check over many).
    ...(reports ? { reports: { put: async (key, body) => (await reports()).put(key, body) } } : {}),
    ...(place && at ? { target: at.target } : {}),
  };
};

/**
 * A spoke's RDS event (a failover restarts a cooldown, any other is ignored) needs nothing of the spoke: the
 * cooldown is kept in the hub's table. Its spoke scaling role is assumed only if a client signs with it.
 */
const startsInHub = (event: unknown): boolean =>
  event !== null && typeof event === 'object' && (event as { source?: unknown }).source === 'aws.rds';

/**
 * The deployed function's wiring: today's deps once per container, and a forwarded alarm's in its target
 * (the spoke scaling role assumed through the hub region's STS, its session cached per container and renewed
 * before it expires: shared/aws/fleet-sessions.ts). A forwarded failover restarts the cooldown in the hub's
 * table without that role, so a spoke role that refuses never keeps the cooldown from restarting.
 */
export const fleetWiring = (
  base: () => BaseDeps,
  env: () => Pick<ScalingEnv, 'STATE_TABLE' | 'REPORT_BUCKET'> = () => loadEnv(ScalingEnv),
): FleetWiring<ScalingDeps> => fleetWiringOf('scaling', base, (b, at) => wire(b, env(), at), { startsInHub });

let base: BaseDeps | undefined;
const wiring = fleetWiring(() => (base ??= wireBase()));

/**
 * One invocation, placed where its run acts (a forwarded alarm's target, the target of a scale-in check's
 * fan-out child, else this account-region). With spokes, the scheduled scale-in check is a Distributed Map
 * over the targets (infra/fan-out.ts): each child is one target's check with its scaling role and overrides
 * (shared/fleet/child.ts), so a spoke's alarm that has stayed OK scales back in there, as the hub's own do,
 * and the cycle's summary names every target that failed.
 */
export const handle = (
  event: unknown,
  context: Pick<Context, 'invokedFunctionArn'>,
  w: FleetWiring<ScalingDeps> = wiring,
) => runFleetEvent(event, w, (e, d) => run(e, atPlace(d, event, context)));

export const handler = middy()
  .use(readableStacks())
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler((event: unknown, context: Context) => handle(event, context));
