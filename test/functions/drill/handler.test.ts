import { describe, expect, it } from 'vitest';
import janitorEvent from '../../../events/drill/janitor.json' with { type: 'json' };
import rdsEvent from '../../../events/drill/rds-restore-complete.json' with { type: 'json' };
import startInput from '../../../events/drill/start.json' with { type: 'json' };
import selectEvent from '../../../events/drill/task-select.json' with { type: 'json' };
import { run, wire } from '../../../functions/drill/handler.js';
import { run as runVerifier, sslOptions } from '../../../functions/drill-verify/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { DrillEnv } from '../../../shared/drill/env.js';
import { ConfigError, EventShapeError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { fakeCredentials } from '../../fakes/drill-ports.js';
import { DRILL_NOW, drillConfigInput, fakeDrillDeps } from '../../support/drill-deps.js';

const clone = <T>(v: T): T => structuredClone(v);
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:steward';
const env = {
  CRITICAL_TOPIC_ARN: TOPIC,
  WARNING_TOPIC_ARN: TOPIC,
  INFO_TOPIC_ARN: TOPIC,
  DRILL_TABLE: 'steward-drill',
  REPORT_BUCKET: 'steward-drill-reports',
  DRILL_SUBNET_GROUP: 'steward-drill',
  DRILL_SECURITY_GROUP_IDS: 'sg-0abc1234, sg-0def5678',
};

describe('drill control-plane handler', () => {
  it('runs the start task from the execution input', async () => {
    const s = await run(
      { task: 'start', state: startInput, execution: selectEvent.execution },
      fakeDrillDeps(),
    );
    expect(s).toEqual(selectEvent.state);
  });

  it.each([
    ['task', (e: Record<string, unknown>) => delete e.task, /Invalid drill task event: task:/],
    ['state', (e: Record<string, unknown>) => delete e.state, /Invalid drill task event: state:/],
    ['state.database', (e: { state: Record<string, unknown> }) => delete e.state.database, /state.database/],
    ['state.kind', (e: { state: Record<string, unknown> }) => (e.state.kind = 'elasticache'), /state.kind/],
  ])('rejects a task event with a bad %s, naming the field', async (_f, mutate, message) => {
    // Prepare
    const event = clone(selectEvent);
    mutate(event as never);

    // Act
    const err = await run(event, fakeDrillDeps()).catch((e: unknown) => e);

    // Assert
    expect(err).toBeInstanceOf(EventShapeError);
    expect((err as Error).message).toMatch(message);
  });

  it('rejects an unknown database, naming the configured ones', async () => {
    await expect(
      run(
        { task: 'start', state: { database: 'billing-db' }, execution: selectEvent.execution },
        fakeDrillDeps(),
      ),
    ).rejects.toThrow(
      /database: "billing-db" is not in drill.targets of the prod config \(known: orders-db\)/,
    );
  });

  it('leaves verify to the verifier inside the VPC', async () => {
    await expect(run({ ...selectEvent, task: 'verify' }, fakeDrillDeps())).rejects.toThrow(
      /verifier function inside the VPC/,
    );
  });

  it('handles an RDS event and the janitor', async () => {
    const deps = fakeDrillDeps();
    await expect(run(rdsEvent, deps)).resolves.toMatchObject({
      outcome: 'no-token',
      status: 'not described',
    });
    await expect(run(janitorEvent, deps)).resolves.toMatchObject({ notified: false, outcomes: [] });
  });

  it('rejects anything else', async () => {
    await expect(run({ hello: 'world' }, fakeDrillDeps())).rejects.toThrow(/Unrecognised drill event/);
  });

  it('wires real adapters from a valid environment', () => {
    const deps = wire(
      {
        config: parseConfig(drillConfigInput, 'test'),
        dryRun: false,
        notifier: memoryNotifier(),
        now: () => DRILL_NOW,
      },
      DrillEnv.parse(env),
    );
    expect(deps.network).toEqual({
      dbSubnetGroupName: 'steward-drill',
      securityGroupIds: ['sg-0abc1234', 'sg-0def5678'],
    });
    expect(deps.restore.region).toBe('eu-west-1');
  });

  it('names every bad environment variable', () => {
    const { DRILL_TABLE: _t, ...rest } = env;
    expect(() =>
      wire(
        {
          config: parseConfig(drillConfigInput, 'test'),
          dryRun: false,
          notifier: memoryNotifier(),
          now: () => DRILL_NOW,
        },
        undefined as never,
      ),
    ).toThrow(ConfigError);
    const r = DrillEnv.safeParse({ ...rest, DRILL_SECURITY_GROUP_IDS: 'default' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'DRILL_SECURITY_GROUP_IDS',
      'DRILL_TABLE',
    ]);
  });
});

describe('drill verifier handler', () => {
  it('runs only the verify and warm-up tasks (the ones that reach the copy inside the VPC)', async () => {
    const noEngine = () => Promise.reject(new Error('not reached'));
    const deps = { ...fakeDrillDeps(), credentials: fakeCredentials({}), verify: noEngine, warmUp: noEngine };
    await expect(runVerifier(selectEvent, deps)).rejects.toThrow(
      /the verifier runs only "verify" and "warmup", not "select"/,
    );
  });

  it.each([
    ['verify-full with the CA bundle', 'verify-full', 'PEM', { rejectUnauthorized: true, caIncludes: 'PEM' }],
    ['verify-full without a bundle', 'verify-full', undefined, { rejectUnauthorized: true }],
    ['require (explicit downgrade)', 'require', 'PEM', { rejectUnauthorized: false }],
  ] as const)('builds TLS options for %s', (_t, mode, bundle, expected) => {
    const ssl = sslOptions({ PG_SSL_MODE: mode, PG_CA_FILE: '/var/runtime/ca-cert.pem' }, () => bundle) as {
      rejectUnauthorized: boolean;
      ca?: string[];
    };
    expect(ssl.rejectUnauthorized).toBe(expected.rejectUnauthorized);
    if ('caIncludes' in expected) expect(ssl.ca).toContain(expected.caIncludes);
    else expect(ssl.ca).toBeUndefined();
  });
});
