import { createHash } from 'node:crypto';
import { ConfigError, StewardError } from '../errors.js';
import type { Outcome } from '../model.js';
import { logger, metrics, MetricUnit } from '../observability.js';
import { settleEach, throwIfFailed } from '../outcomes.js';
import type { StageDeps } from '../runtime.js';
import { Tag } from '../tags.js';
import {
  deletableEndpoints,
  type DrillEndpointsPort,
  ENDPOINTS_UNAVAILABLE,
  drillEndpointKeys,
  type EndpointKey,
  type EndpointsClosed,
  type EndpointSpec,
  endpointStep,
  endpointTags,
  type EndpointsProgress,
  type RunningDrills,
  type VpcEndpointInfo,
} from './endpoints.js';
import type { DrillState } from './state.js';

/*
 * Drill-scoped interface endpoints: the state machine's steps. OpenEndpoints (after SelectSnapshot) asks for the
 * endpoints this drill needs; CheckEndpoints (before the verify step, in a Wait loop) asks again until they are
 * available or `drill.endpoints.timeoutSeconds` passed; CloseEndpoints (after Cleanup, on every path) deletes
 * steward's drill endpoints unless another drill execution is running. The janitor deletes idle ones a Close
 * never reached (./janitor.ts), and a drill that ended outside its own handling releases them too (tasks.ts).
 */

/** What the endpoint steps need: the drill VPC's creatable endpoints, EC2, and the running drills. */
export interface DrillEndpointsDeps {
  spec: EndpointSpec;
  port: DrillEndpointsPort;
  drills: RunningDrills;
}

/** The drill's endpoints were not available within `drill.endpoints.timeoutSeconds`: its verifier cannot run. */
export class EndpointsUnavailableError extends StewardError {
  override name = ENDPOINTS_UNAVAILABLE;
}

type Deps = Pick<StageDeps, 'config' | 'now'> & {
  endpoints?: DrillEndpointsDeps | undefined;
  /**
   * The DR region's drill VPC endpoints (a verifying EBS drill from the DR copies, per-drill endpoints): read
   * from the DR stack's published network on first use; undefined when it deploys them always on.
   */
  drEndpoints?: (() => Promise<DrillEndpointsDeps | undefined>) | undefined;
};

/** Where a drill's verifier runs: the DR region for a drill from the DR copies, else the stage's (undefined). */
const drillRegion = (s: Partial<DrillState>, stageRegion: string): string | undefined => {
  const region = s.ebs?.settings.region ?? s.source?.region;
  return region !== undefined && region !== stageRegion ? region : undefined;
};

/** The endpoints of the drill's own region: the stage's drill VPC, or the DR stack's for a drill there. */
const wiringFor = async (s: Partial<DrillState>, deps: Deps): Promise<DrillEndpointsDeps | undefined> =>
  drillRegion(s, deps.config.region) === undefined
    ? deps.endpoints
    : deps.drEndpoints
      ? await deps.drEndpoints()
      : undefined;

// CreateVpcEndpoint's ClientToken: at most 64 ASCII characters. The same drill, service and check count give
// the same token, so a retried invocation creates nothing twice; the next check (a new count) may create anew
// after an endpoint it used was deleted.
const clientToken = (drillId: string, key: EndpointKey, check: number) =>
  `steward-${createHash('sha256').update(`${drillId}\n${key}\n${check}`).digest('hex').slice(0, 40)}`;

const placementOf = (spec: EndpointSpec, key: EndpointKey) => {
  const p = spec.endpoints[key];
  if (!p)
    throw new ConfigError(`No placement for the ${key} endpoint`, [
      `DRILL_ENDPOINTS.endpoints.${key}: missing; the drill needs this endpoint: deploy the stack again (the construct writes one for every endpoint a configured drill needs)`,
    ]);
  return p;
};

/**
 * Task `endpoints` (OpenEndpoints, CheckEndpoints): make sure every endpoint this drill needs exists, creating
 * (tagged, private DNS, idempotent) the missing ones, and say whether all are available. Not available after
 * `drill.endpoints.timeoutSeconds` → EndpointsUnavailableError (the drill cleans up and is inconclusive).
 */
export const ensureEndpoints = async (s: DrillState, deps: Deps): Promise<DrillState> => {
  const now = deps.now();
  const needed = drillEndpointKeys(deps.config, s.database);
  const since = s.endpoints?.since ?? now.toISOString();
  const checks = (s.endpoints?.checks ?? 0) + 1;
  const done = (services: EndpointsProgress['services']): DrillState => ({
    ...s,
    endpoints: {
      needed,
      since,
      checks,
      ready: true,
      services,
      readyAt: s.endpoints?.readyAt ?? now.toISOString(),
    },
  });
  if (!needed.length) return done([]);
  const wiring = await wiringFor(s, deps);
  // Always-on endpoints (the stack deploys them) or a run without AWS (the sandbox): nothing to create.
  if (!wiring)
    return done(needed.map((key) => ({ key, state: 'not-managed', detail: 'no per-drill endpoints wired' })));
  const placements = needed.map((key) => [key, placementOf(wiring.spec, key)] as const);
  const found = await wiring.port.list(placements.map(([, p]) => p.serviceName));
  const services: EndpointsProgress['services'] = [];
  for (const [key, placement] of placements) {
    const step = endpointStep(found.filter((e) => e.serviceName === placement.serviceName));
    const ours = (e: VpcEndpointInfo) => Boolean(e.tags[Tag.drillEndpoint]);
    if (step.action === 'ready') {
      services.push({ key, state: 'available', endpointId: step.endpoint.id, ours: ours(step.endpoint) });
      continue;
    }
    if (step.action === 'wait') {
      services.push({
        key,
        state: step.endpoint.state,
        endpointId: step.endpoint.id,
        ours: ours(step.endpoint),
        detail: step.reason,
      });
      continue;
    }
    const r = await wiring.port.create({
      ...placement,
      key,
      clientToken: clientToken(s.drillId, key, checks),
      tags: endpointTags(key, s.drillId),
    });
    if ('conflict' in r) {
      services.push({ key, state: 'conflict', detail: r.conflict });
      continue;
    }
    logger.info('drill endpoint created', {
      drillId: s.drillId,
      key,
      endpoint: r.created.id,
      why: step.reason,
    });
    metrics.addMetric('DrillEndpointsCreated', MetricUnit.Count, 1);
    services.push({ key, state: r.created.state, endpointId: r.created.id, ours: true, detail: 'created' });
  }
  if (services.every((x) => x.state === 'available')) return done(services);
  const waited = Math.round((now.getTime() - Date.parse(since)) / 1000);
  const limit = deps.config.drill.endpoints.timeoutSeconds;
  if (waited > limit) {
    throw new EndpointsUnavailableError(
      `endpoints not available after ${waited} s (drill.endpoints.timeoutSeconds is ${limit}): ${services
        .filter((x) => x.state !== 'available')
        .map((x) => `${x.key} ${x.state}${x.detail ? ` (${x.detail})` : ''}`)
        .join('; ')}`,
    );
  }
  return { ...s, endpoints: { needed, since, checks, ready: false, services } };
};

/** Every service name the stage's drills may create an endpoint for. */
const serviceNames = (spec: EndpointSpec): string[] =>
  Object.values(spec.endpoints).map((p) => p.serviceName);

/**
 * Delete steward's drill endpoints in the drill VPC, unless a drill execution other than `self` is running
 * (it may use them, or be about to: concurrent drills share one endpoint per service). Endpoints steward did
 * not create are never touched. Throws after trying every one when a deletion failed.
 */
export const releaseEndpoints = async (
  wiring: DrillEndpointsDeps,
  at: Date,
  self?: string,
): Promise<EndpointsClosed & { outcomes: Outcome[] }> => {
  const names = serviceNames(wiring.spec);
  const ours = names.length ? deletableEndpoints(await wiring.port.list(names)) : [];
  const base = { at: at.toISOString() };
  if (!ours.length) return { ...base, status: 'none', outcomes: [] };
  const others = (await wiring.drills.running()).filter((n) => n !== self);
  if (others.length) {
    const shown = others.slice(0, 3).join(', ') + (others.length > 3 ? ', …' : '');
    return {
      ...base,
      status: 'kept',
      detail: `${ours.map((e) => e.id).join(', ')} kept: ${others.length} other drill execution(s) running (${shown})`,
      outcomes: [],
    };
  }
  const outcomes = await settleEach(
    ours,
    async (e): Promise<Outcome> => {
      const r = await wiring.port.remove(e);
      return {
        resource: `vpc-endpoint ${e.id}`,
        action: 'delete',
        status: r === 'deleted' ? 'done' : 'already-done',
      };
    },
    (e) => ({ resource: `vpc-endpoint ${e.id}`, action: 'delete' }),
  );
  logger.info('drill endpoints released', { outcomes });
  throwIfFailed('Drill endpoints', outcomes);
  return { ...base, status: 'deleted', detail: ours.map((e) => e.id).join(', '), outcomes };
};

/**
 * Task `close-endpoints` (CloseEndpoints, after Cleanup on every path): release the stage's drill endpoints
 * unless another drill execution runs. `execution` is this execution's name (it is still RUNNING itself).
 * With verifying EBS drills from the DR copies, the DR region's drill VPC too: the last drill to end releases
 * both, whichever region it ran in. A failure in the drill's own region fails the task (retried, then caught
 * into Record); in the other region it is logged and left to the janitor.
 */
export const closeEndpoints = async (
  raw: Record<string, unknown>,
  execution: string | undefined,
  deps: Deps,
): Promise<DrillState> => {
  const now = deps.now();
  const inDr = drillRegion(raw as Partial<DrillState>, deps.config.region) !== undefined;
  const release = async (
    wiring: () => Promise<DrillEndpointsDeps | undefined>,
    own: boolean,
  ): Promise<EndpointsClosed | undefined> => {
    try {
      const w = await wiring();
      return w ? await releaseEndpoints(w, now, execution).then(({ outcomes: _o, ...r }) => r) : undefined;
    } catch (e) {
      if (own) throw e;
      logger.warn('drill endpoints of the other region not released (the janitor sweeps them)', {
        drillId: raw.drillId,
        error: e instanceof Error ? e.message : String(e),
      });
      return undefined;
    }
  };
  const results = [
    await release(async () => deps.endpoints, !inDr),
    ...(deps.drEndpoints ? [await release(deps.drEndpoints, inDr)] : []),
  ].filter((r): r is EndpointsClosed => r !== undefined);
  const closed: EndpointsClosed = !results.length
    ? { status: 'not-wired', at: now.toISOString() }
    : results.length === 1
      ? results[0]!
      : {
          status: results.some((r) => r.status === 'deleted')
            ? 'deleted'
            : results.some((r) => r.status === 'kept')
              ? 'kept'
              : 'none',
          at: now.toISOString(),
          ...(results.some((r) => r.detail)
            ? { detail: results.flatMap((r) => (r.detail ? [r.detail] : [])).join('; ') }
            : {}),
        };
  logger.info('drill endpoints closed', { drillId: raw.drillId, ...closed });
  return { ...raw, endpointsClosed: closed } as DrillState;
};
