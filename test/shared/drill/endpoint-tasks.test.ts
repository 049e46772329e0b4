import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
import { closeEndpoints, ensureEndpoints, releaseEndpoints } from '../../../shared/drill/endpoint-tasks.js';
import {
  drillEndpointKeys,
  endpointStep,
  parseEndpointSpec,
  planEndpointJanitor,
  stageEndpointKeys,
  type VpcEndpointInfo,
} from '../../../shared/drill/endpoints.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { ConfigError } from '../../../shared/errors.js';
import { fakeEndpoints, type FakeEndpointsOptions, serviceNameOf } from '../../fakes/drill-endpoints.js';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:orders-AbCdEf';
const config = parseConfig(
  {
    stage: 'prod',
    region: 'eu-west-1',
    drill: {
      enabled: true,
      targets: {
        'orders-db': { auth: 'secret', secretArn: SECRET, profile: { database: 'orders' } },
        'users-db': { profile: { database: 'users' } },
      },
      caches: { sessions: { auth: 'token', secretArn: SECRET }, queue: { auth: 'none' } },
      volumes: { 'i-0abc1234def567890': { verify: { command: 'fsck -n /dev/sdf1' } } },
    },
  },
  'test',
);

const state = (over: Partial<DrillState> = {}): DrillState => ({
  drillId: 'drill-1',
  startedAt: '2026-12-01T05:00:00.000Z',
  input: { database: 'orders-db' },
  database: 'orders-db',
  kind: 'rds-instance',
  targets: { rtoSeconds: 3600, rpoSeconds: 300 },
  ...over,
});

const at = (seconds: number) => () => new Date(Date.parse('2026-12-01T05:00:00.000Z') + seconds * 1000);
const deps = (o: FakeEndpointsOptions = {}, seconds = 0) => {
  const endpoints = fakeEndpoints(o);
  return { config, now: at(seconds), endpoints };
};

describe('which endpoints a drill needs', () => {
  it.each([
    ['orders-db', ['secretsmanager']],
    ['users-db', []],
    ['sessions', ['secretsmanager']],
    ['queue', []],
    ['i-0abc1234def567890', ['ssm', 'ec2messages', 'ssmmessages']],
  ])('%s needs %j', (database, keys) => {
    expect(drillEndpointKeys(config, database)).toEqual(keys);
  });

  it('the stage needs the union, once each', () => {
    expect(stageEndpointKeys(config)).toEqual(['secretsmanager', 'ssm', 'ec2messages', 'ssmmessages']);
  });
});

describe('endpointStep', () => {
  const e = (state: string, privateDns = true, id = 'vpce-1'): VpcEndpointInfo => ({
    id,
    serviceName: serviceNameOf('secretsmanager'),
    state,
    privateDns,
    tags: {},
  });
  it.each([
    [[], 'create'],
    [[e('available')], 'ready'],
    [[e('pending')], 'wait'],
    [[e('deleting')], 'wait'],
    [[e('deleted'), e('failed', true, 'vpce-2')], 'create'],
    // Without private DNS an endpoint does not serve the service's default name: ours is still created.
    [[e('available', false)], 'create'],
  ])('%j → %s', (found, action) => {
    expect(endpointStep(found).action).toBe(action);
  });
});

describe('ensureEndpoints (OpenEndpoints, CheckEndpoints)', () => {
  it('creates what the drill needs, tagged, then is ready once it is available', async () => {
    // Prepare: available at the first look after its creation
    const d = deps({ availableAfterLists: 0 });

    // Act
    const opened = await ensureEndpoints(state(), d);
    const checked = await ensureEndpoints(opened, d);

    // Assert
    expect(opened.endpoints).toMatchObject({
      needed: ['secretsmanager'],
      ready: false,
      checks: 1,
      services: [{ key: 'secretsmanager', state: 'pending', ours: true, detail: 'created' }],
    });
    expect(checked.endpoints).toMatchObject({ ready: true, checks: 2, readyAt: expect.any(String) });
    const [made] = d.endpoints.live();
    expect(made!.tags).toEqual({
      'steward:drill-endpoint': 'secretsmanager',
      'steward:managed': 'true',
      'steward:created-by': 'drill',
      'steward:drill': 'drill-1',
    });
    expect(d.endpoints.log.filter((l) => l.startsWith('create'))).toEqual(['create secretsmanager']);
  });

  it('uses an available endpoint already in the VPC, whoever made it, and creates nothing', async () => {
    const d = deps({
      existing: [
        {
          id: 'vpce-0theirs',
          serviceName: serviceNameOf('secretsmanager'),
          state: 'available',
          privateDns: true,
          tags: { team: 'net' },
        },
      ],
    });

    const s = await ensureEndpoints(state(), d);

    expect(s.endpoints).toMatchObject({
      ready: true,
      services: [{ key: 'secretsmanager', endpointId: 'vpce-0theirs', ours: false }],
    });
    expect(d.endpoints.log.some((l) => l.startsWith('create'))).toBe(false);
  });

  it('needs nothing and calls nothing for a drill that logs in with IAM', async () => {
    const d = deps();
    const s = await ensureEndpoints(state({ database: 'users-db', input: { database: 'users-db' } }), d);
    expect(s.endpoints).toMatchObject({ needed: [], ready: true });
    expect(d.endpoints.log).toEqual([]);
  });

  it('is ready without wiring (always-on endpoints, or the sandbox)', async () => {
    const s = await ensureEndpoints(state(), { config, now: at(0) });
    expect(s.endpoints).toMatchObject({
      ready: true,
      services: [{ key: 'secretsmanager', state: 'not-managed' }],
    });
  });

  it('fails when the create fails (the drill is caught into Cleanup)', async () => {
    await expect(ensureEndpoints(state(), deps({ failCreate: true }))).rejects.toThrow(
      /VpcEndpointLimitExceeded/,
    );
  });

  it('waits on a conflict (an endpoint being deleted), then stops the drill once timeoutSeconds passed', async () => {
    // Prepare: another drill's endpoint is still being deleted; this one never becomes available
    const deleting = {
      id: 'vpce-0old',
      serviceName: serviceNameOf('secretsmanager'),
      state: 'deleting',
      privateDns: true,
      tags: { 'steward:managed': 'true', 'steward:drill-endpoint': 'secretsmanager' },
    };
    const early = await ensureEndpoints(state(), deps({ existing: [deleting] }));

    // Act / Assert
    expect(early.endpoints).toMatchObject({ ready: false, services: [{ state: 'deleting' }] });
    await expect(ensureEndpoints(early, deps({ existing: [deleting] }, 901))).rejects.toMatchObject({
      name: 'EndpointsUnavailable',
      message: expect.stringMatching(
        /not available after 901 s \(drill\.endpoints\.timeoutSeconds is 900\): secretsmanager deleting/,
      ),
    });
  });

  it('stops the drill when a created endpoint never becomes available', async () => {
    const d = deps({ neverAvailable: true });
    const opened = await ensureEndpoints(state(), d);
    await expect(ensureEndpoints(opened, { ...d, now: at(1000) })).rejects.toMatchObject({
      name: 'EndpointsUnavailable',
    });
  });

  it('names the missing placement when the stack wrote none for a needed endpoint', async () => {
    const d = deps();
    delete d.endpoints.spec.endpoints.secretsmanager;
    await expect(ensureEndpoints(state(), d)).rejects.toThrow(ConfigError);
  });
});

describe('closeEndpoints and releaseEndpoints', () => {
  const opened = async (o: FakeEndpointsOptions = {}) => {
    const d = deps(o);
    await ensureEndpoints(state(), d);
    return d;
  };

  it('deletes steward’s drill endpoints when no other drill runs', async () => {
    const d = await opened({ running: () => ['drill-1'] });
    const s = await closeEndpoints(state() as unknown as Record<string, unknown>, 'drill-1', d);
    expect(s.endpointsClosed).toMatchObject({ status: 'deleted' });
    expect(d.endpoints.live()).toEqual([]);
  });

  it('keeps them while another drill execution runs', async () => {
    const d = await opened({ running: () => ['drill-1', 'drill-2'] });
    const s = await closeEndpoints(state() as unknown as Record<string, unknown>, 'drill-1', d);
    expect(s.endpointsClosed).toMatchObject({
      status: 'kept',
      detail: expect.stringMatching(/1 other drill/),
    });
    expect(d.endpoints.live()).toHaveLength(1);
  });

  it('never deletes an endpoint steward did not create', async () => {
    const d = deps({
      existing: [
        {
          id: 'vpce-0theirs',
          serviceName: serviceNameOf('ssm'),
          state: 'available',
          privateDns: true,
          tags: { team: 'net' },
        },
      ],
    });
    const r = await releaseEndpoints(d.endpoints, at(0)(), 'drill-1');
    expect(r.status).toBe('none');
    expect(d.endpoints.live()).toHaveLength(1);
    expect(d.endpoints.log.some((l) => l.startsWith('delete'))).toBe(false);
  });

  it('throws after trying every endpoint when the delete is refused (Close is caught into Record)', async () => {
    const d = await opened({ refuseDelete: true });
    await expect(closeEndpoints(state() as unknown as Record<string, unknown>, 'drill-1', d)).rejects.toThrow(
      /Drill endpoints: 1 of 1 actions failed.*UnauthorizedOperation/,
    );
  });

  it('says not-wired without endpoint deps', async () => {
    const s = await closeEndpoints({ drillId: 'x' }, 'x', { config, now: at(0) });
    expect(s.endpointsClosed).toMatchObject({ status: 'not-wired' });
  });
});

describe('planEndpointJanitor', () => {
  const r = (createdAt?: string) => ({
    kind: 'vpc-endpoint' as const,
    id: 'vpce-1',
    drillId: 'drill-1',
    tags: {},
    serviceName: serviceNameOf('ssm'),
    ...(createdAt ? { createdAt } : {}),
  });
  const now = new Date('2026-12-01T08:00:00Z');
  it.each([
    [r('2026-12-01T05:00:00Z'), 0, 'delete'],
    [r('2026-12-01T07:30:00Z'), 0, 'keep'],
    [r('2026-12-01T05:00:00Z'), 1, 'keep'],
    [r(), 0, 'keep'],
  ])('%j with %i running → %s', (resource, running, action) => {
    expect(planEndpointJanitor([resource], running, now)[0]!.action).toBe(action);
  });
});

describe('parseEndpointSpec', () => {
  it('names the bad field of a malformed DRILL_ENDPOINTS', () => {
    expect(() => parseEndpointSpec('{')).toThrow(ConfigError);
    expect(() => parseEndpointSpec(JSON.stringify({ vpcId: 'nope', endpoints: {} }))).toThrow(
      expect.objectContaining({
        issues: expect.arrayContaining([expect.stringMatching(/^DRILL_ENDPOINTS\.vpcId/)]),
      }),
    );
  });
});
