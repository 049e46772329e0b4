import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext as powertoolsInject } from '@aws-lambda-powertools/logger/middleware';
import { Metrics as PowertoolsMetrics, MetricUnit as PowertoolsUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics as powertoolsLogMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { injectLambdaContext, Logger, logMetrics, Metrics, MetricUnit } from '../../shared/observability.js';

// Steward's logger and EMF writer must write exactly what Powertools writes (the formats users' queries,
// metric filters and dashboards read). Each case runs the same calls through Powertools and through ours,
// with the same environment and clock, and compares every line written to stdout and stderr.

type Line = [stream: 'out' | 'err', text: string];

/** Everything `f` writes to stdout and stderr, line by line (nothing reaches the real streams). */
const capture = async (f: () => unknown): Promise<Line[]> => {
  const lines: Line[] = [];
  const out = process.stdout.write;
  const err = process.stderr.write;
  const grab = (stream: Line[0]) =>
    ((chunk: string | Uint8Array) => {
      lines.push(
        ...String(chunk)
          .replace(/\n$/, '')
          .split('\n')
          .map((t) => [stream, t] as Line),
      );
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = grab('out');
  process.stderr.write = grab('err');
  // Dev mode writes through the global console (which the test runner intercepts before the streams).
  const methods = { log: 'out', info: 'out', debug: 'out', warn: 'err', error: 'err' } as const;
  const spies = Object.entries(methods).map(([m, stream]) =>
    vi.spyOn(console, m as keyof typeof methods).mockImplementation((text: unknown) => {
      lines.push(
        ...String(text)
          .split('\n')
          .map((t) => [stream, t] as Line),
      );
    }),
  );
  try {
    await f();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    spies.forEach((s) => s.mockRestore());
  }
  return lines;
};

const context = (n: number) =>
  ({
    functionName: 'steward-prod-backup',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:steward-prod-backup',
    memoryLimitInMB: '512',
    awsRequestId: `c0ffee00-0000-4000-8000-00000000000${n}`,
    logGroupName: '/aws/lambda/steward-prod-backup',
    logStreamName: '2026/02/01/[$LATEST]abc',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

/** An error as steward throws them: a subclass with its own fields and a cause. */
class AwsCallError extends Error {
  override name = 'AwsCallError';
  constructor(
    message: string,
    readonly operation: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

// Made once, so both loggers print the same stack.
const ERROR = new AwsCallError('copy failed', 'CopyDBSnapshot', {
  cause: Object.assign(new Error('Rate exceeded'), { code: 'ThrottlingException', $retryable: {} }),
});
const INNER = new Error('inner');

// What a Lambda environment sets, plus Powertools' own variables as the functions deploy with them.
const LAMBDA_ENV: Record<string, string | undefined> = {
  POWERTOOLS_DEV: 'false',
  POWERTOOLS_LOG_LEVEL: undefined,
  LOG_LEVEL: undefined,
  AWS_LAMBDA_LOG_LEVEL: undefined,
  POWERTOOLS_METRICS_DISABLED: 'false',
  POWERTOOLS_LOGGER_SAMPLE_RATE: undefined,
  POWERTOOLS_LOGGER_LOG_EVENT: undefined,
  POWERTOOLS_SERVICE_NAME: 'backup',
  POWERTOOLS_METRICS_NAMESPACE: 'Steward',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  _X_AMZN_TRACE_ID: 'Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1',
  TZ: ':UTC',
};

const stub = (vars: Record<string, string | undefined>) => {
  for (const [k, v] of Object.entries(vars)) vi.stubEnv(k, v);
};

beforeEach(() => {
  stub(LAMBDA_ENV);
  vi.useFakeTimers({ now: new Date('2026-02-01T05:00:03.512Z'), toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

/** The calls a handler makes on the logger, run through both loggers. */
type LogScript = (log: {
  debug: Logger['debug'];
  info: Logger['info'];
  warn: Logger['warn'];
  error: Logger['error'];
  critical: Logger['critical'];
}) => void;

const STEWARD_CALLS: LogScript = (log) => {
  log.debug('planned', { drillId: 'monthly-orders-db' });
  log.info('backup planned', { policy: 'daily', dbs: ['orders-db', 'users-db'], count: 2, dryRun: false });
  log.warn('snapshot copy skipped', { database: 'orders-db', reason: 'in flight', error: ERROR });
  log.error('backup failed', ERROR);
  log.info('state', { nested: { error: INNER, big: 10n ** 20n, when: new Date(0) } });
  log.info('empty values are dropped', { none: null, nothing: undefined, blank: '', zero: 0, no: false });
  log.info('a reserved key is dropped with a warning', { service: 'other', timestamp: 'x', kept: 1 });
  log.info('a string extra', 'free text');
  const cycle: Record<string, unknown> = { id: 'a' };
  cycle.self = cycle;
  log.info('circular', { cycle, list: [cycle, 1] });
  log.warn('no extra');
  log.critical('pager', { database: 'orders-db' });
};

/**
 * Build a logger and run `script` in two invocations of a middy handler, as a deployed function does (its
 * module scope logs once first), and return every line written, construction included.
 */
const invokeTwice = async <L extends Parameters<LogScript>[0]>(
  build: () => L,
  inject: (l: L) => Parameters<ReturnType<typeof middy>['use']>[0],
  script: LogScript,
) =>
  capture(async () => {
    const logger = build();
    logger.info('at import, before any invocation');
    const handler = middy()
      .use(inject(logger))
      .handler(async () => script(logger));
    await handler({ source: 'aws.events' }, context(1));
    await handler({ source: 'aws.events' }, context(2));
  });

describe('the logger writes what Powertools writes', () => {
  const both = async (vars: Record<string, string>, script: LogScript = STEWARD_CALLS) => {
    stub(vars);
    const expected = await invokeTwice(
      () => new PowertoolsLogger({ serviceName: 'backup' }),
      (l) => powertoolsInject(l, { resetKeys: true }),
      script,
    );
    const actual = await invokeTwice(
      () => new Logger({ serviceName: 'backup' }),
      injectLambdaContext,
      script,
    );
    return { expected, actual };
  };

  it.each([
    ['in Lambda (cold start, context, trace id, errors with causes, bigints, cycles)', {}],
    ['at DEBUG', { POWERTOOLS_LOG_LEVEL: 'DEBUG' }],
    ['at WARN', { POWERTOOLS_LOG_LEVEL: 'WARN' }],
    ['at the LOG_LEVEL alias', { LOG_LEVEL: 'ERROR' }],
    ['with a level it does not know (lower case)', { POWERTOOLS_LOG_LEVEL: 'debug' }],
    [
      "under Lambda's advanced logging controls",
      { POWERTOOLS_LOG_LEVEL: 'DEBUG', AWS_LAMBDA_LOG_LEVEL: 'WARN' },
    ],
    ['under ALC FATAL', { AWS_LAMBDA_LOG_LEVEL: 'FATAL' }],
    ['in dev mode (indented, stack lines)', { POWERTOOLS_DEV: 'true' }],
    ['without a trace id', { _X_AMZN_TRACE_ID: '' }],
    ['with a bare trace id', { _X_AMZN_TRACE_ID: '1-67a1b2c3-0123456789abcdef01234567' }],
    ['in another time zone', { TZ: 'Europe/Paris' }],
    [
      'in a provisioned environment (no cold start)',
      { AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' },
    ],
    ['logging each event', { POWERTOOLS_LOGGER_LOG_EVENT: 'true' }],
    ['with debug sampling always on', { POWERTOOLS_LOGGER_SAMPLE_RATE: '1' }],
    ['with debug sampling never on', { POWERTOOLS_LOGGER_SAMPLE_RATE: '0' }],
    ['with no service name', { POWERTOOLS_SERVICE_NAME: '' }],
  ])('%s', async (_title, vars) => {
    // Prepare, Act
    const { expected, actual } = await both(vars);

    // Assert
    expect(expected.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });

  it('reads and sets the level as Powertools does, SILENT included', async () => {
    // Prepare
    const theirs = new PowertoolsLogger();
    const ours = new Logger();
    const script = (log: PowertoolsLogger | Logger) => {
      const before = log.getLevelName();
      log.setLogLevel('SILENT');
      log.error('not written');
      log.setLogLevel('DEBUG');
      log.debug('written', { before });
    };

    // Act
    const expected = await capture(() => script(theirs));
    const actual = await capture(() => script(ours));

    // Assert
    expect(ours.getLevelName()).toBe(theirs.getLevelName());
    expect(actual).toEqual(expected);
    expect(() => ours.setLogLevel('LOUD' as never)).toThrow(
      (() => {
        try {
          theirs.setLogLevel('LOUD' as never);
        } catch (e) {
          return (e as Error).message;
        }
        return 'no error';
      })(),
    );
  });
});

describe('the metrics writer writes the EMF documents Powertools writes', () => {
  type Emitter = {
    addMetric(name: string, unit: MetricUnit, value: number): unknown;
    addDimension(name: string, value: string): unknown;
    singleMetric(): {
      addMetric(n: string, u: MetricUnit, v: number): unknown;
      addDimension(n: string, v: string): unknown;
    };
    publishStoredMetrics(): unknown;
  };
  const make = {
    theirs: (o?: object): Emitter =>
      new PowertoolsMetrics({ namespace: 'Steward', serviceName: 'backup', ...o }) as never,
    ours: (o?: object): Emitter => new Metrics({ namespace: 'Steward', serviceName: 'backup', ...o }),
  };
  const middleware = { theirs: powertoolsLogMetrics, ours: logMetrics };

  /** The same calls, in two invocations of a middy handler (the second adds nothing: a quiet run). */
  const run = (who: 'theirs' | 'ours', script: (m: Emitter) => void, options?: object) =>
    capture(async () => {
      const m = make[who](options);
      const handler = middy()
        .use(middleware[who](m as never))
        .handler(async (event: unknown) => {
          if (!(event as { quiet?: boolean }).quiet) script(m);
        });
      await handler({}, context(1));
      await handler({ quiet: true }, context(2));
    });

  const scripts: [string, (m: Emitter) => void, object?][] = [
    [
      'counts, a repeated metric as a list, seconds',
      (m) => {
        m.addMetric('SnapshotsCreated', MetricUnit.Count, 3);
        m.addMetric('SnapshotsExpired', MetricUnit.Count, 1);
        m.addMetric('SnapshotsExpired', MetricUnit.Count, 2);
        m.addMetric('RunSeconds', MetricUnit.Seconds, 12.5);
      },
    ],
    [
      'single metrics with their own dimension, published at once',
      (m) => {
        const a = m.singleMetric();
        a.addDimension('database', 'orders-db');
        a.addMetric('DrLagMaxSeconds', MetricUnit.Seconds, 7200);
        const b = m.singleMetric();
        b.addDimension('policy', 'daily');
        b.addMetric('CopiesInFlight', MetricUnit.Count, 4);
        m.addMetric('Copies', MetricUnit.Count, 1);
      },
    ],
    [
      'a dimension on the stored metrics, repeated and blank dimensions',
      (m) => {
        m.addDimension('database', 'orders-db');
        m.addDimension('database', 'users-db');
        m.addDimension('region', ' ');
        m.addDimension('service', 'other');
        m.addMetric('Checks', MetricUnit.Count, 5);
      },
    ],
    [
      'more than 100 metrics: flushed in documents of 100',
      (m) => {
        for (let i = 0; i < 150; i++) m.addMetric(`M${i}`, MetricUnit.Count, i);
      },
    ],
    [
      '100 values of one metric: flushed at the 100th',
      (m) => {
        for (let i = 0; i < 120; i++) m.addMetric('Latency', MetricUnit.Milliseconds, i);
      },
    ],
    [
      'no namespace (from the environment)',
      (m) => m.addMetric('X', MetricUnit.Count, 1),
      { namespace: undefined },
    ],
    ['every unit', (m) => Object.values(MetricUnit).forEach((u, i) => m.addMetric(`U${i}`, u, i))],
  ];

  it.each(scripts)('%s', async (_title, script, options) => {
    // Prepare, Act
    const expected = await run('theirs', script, options);
    const actual = await run('ours', script, options);

    // Assert
    expect(expected.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });

  it.each([
    ['without a namespace anywhere', { POWERTOOLS_METRICS_NAMESPACE: '' }, { namespace: undefined }],
    ['disabled', { POWERTOOLS_METRICS_DISABLED: 'true' }, undefined],
    ['disabled by dev mode', { POWERTOOLS_DEV: '1', POWERTOOLS_METRICS_DISABLED: undefined }, undefined],
    [
      'with the service from the environment',
      { POWERTOOLS_SERVICE_NAME: 'scaling' },
      { serviceName: undefined },
    ],
  ] as const)('%s', async (_title, vars, options) => {
    // Prepare
    stub(vars as Record<string, string | undefined>);
    const script = (m: Emitter) => m.addMetric('Runs', MetricUnit.Count, 1);

    // Act
    const expected = await run('theirs', script, options);
    const actual = await run('ours', script, options);

    // Assert
    expect(actual).toEqual(expected);
  });

  it('refuses what Powertools refuses, with the same messages', () => {
    // Prepare
    const attempts: ((m: Emitter) => void)[] = [
      (m) => {
        m.addMetric('Runs', MetricUnit.Count, 1);
        m.addMetric('Runs', MetricUnit.Seconds, 1);
      },
      (m) => m.addMetric('', MetricUnit.Count, 1),
      (m) => m.addMetric('Runs', 'Parsecs' as MetricUnit, 1),
      (m) => m.addMetric('Runs', MetricUnit.Count, '1' as unknown as number),
      (m) => {
        m.addDimension('Runs', 'x');
        m.addMetric('Runs', MetricUnit.Count, 1);
        m.publishStoredMetrics();
      },
      (m) => {
        for (let i = 0; i < 30; i++) m.addDimension(`d${i}`, 'x');
      },
    ];
    const outcome = (who: 'theirs' | 'ours', f: (m: Emitter) => void) => {
      try {
        f(make[who]());
        return 'no error';
      } catch (e) {
        return `${(e as Error).constructor.name}: ${(e as Error).message}`;
      }
    };

    // Act, Assert
    for (const f of attempts) {
      const expected = outcome('theirs', f);
      expect(expected).not.toBe('no error');
      expect(outcome('ours', f)).toBe(expected);
    }
  });

  it('names the units as Powertools does', () => {
    expect(MetricUnit).toEqual(PowertoolsUnit);
  });
});
