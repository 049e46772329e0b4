import { Console } from 'node:console';
import { randomInt } from 'node:crypto';

// The one logger and EMF metrics writer. They write exactly what Powertools for AWS Lambda (TypeScript) v2
// writes for the calls steward makes: the same JSON keys in the same order, the same error shape, the same
// EMF documents and warnings, and the same POWERTOOLS_* / Lambda variables (test/shared/observability.test.ts
// compares both, line by line, for the same inputs). Powertools' logger and metrics packages cost ~34 KB of
// every bundle and ~14 ms of CPU at each cold start (Node 22, measured) for features steward does not use:
// log buffering, correlation ids, child loggers, persistent keys, dimension sets, metadata, high resolution.

const env = (key: string): string => process.env[key]?.trim() ?? '';
const TRUE = ['1', 'y', 'yes', 't', 'true', 'on'];
const FALSE = ['0', 'n', 'no', 'f', 'false', 'off'];
/** A boolean variable that must read true or false when set (Powertools throws on anything else). */
const strictFlag = (key: string): boolean => {
  if (process.env[key] === undefined) return false;
  const v = env(key).toLowerCase();
  if (v !== 'true' && v !== 'false') throw new Error(`Environment variable ${key} must be a boolean`);
  return v === 'true';
};
/** POWERTOOLS_DEV: pretty JSON, stack lines as arrays, the global console, and no EMF. */
const devMode = () => TRUE.includes(env('POWERTOOLS_DEV').toLowerCase());
/** Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE; only an on-demand environment has a cold start. */
const onDemand = () => env('AWS_LAMBDA_INITIALIZATION_TYPE') === 'on-demand';
// Powertools' service when none is configured.
const NO_SERVICE = 'service_undefined';
const UNSAFE_KEYS = ['__proto__', 'constructor'];

type Out = Pick<Console, 'log' | 'info' | 'warn' | 'error' | 'debug'>;

/**
 * Powertools' own console (stdout for log, info and debug; stderr for warn and error), each stream's made at
 * its first line. Reading `process.stdout` or `process.stderr` opens that stream (a pipe or socket in Lambda:
 * 1-3 ms of CPU each, Node 22), and a run that warns nothing never needs stderr, so neither is opened at import.
 */
const stdConsole = (): Out => {
  if (devMode()) return console;
  let out: Console | undefined;
  let err: Console | undefined;
  // A Console given only `stdout` writes its warn and error lines there too.
  const toOut = () => (out ??= new Console({ stdout: process.stdout }));
  const toErr = () => (err ??= new Console({ stdout: process.stderr }));
  return {
    log: (...a: unknown[]) => toOut().log(...a),
    info: (...a: unknown[]) => toOut().info(...a),
    debug: (...a: unknown[]) => toOut().debug(...a),
    warn: (...a: unknown[]) => toErr().warn(...a),
    error: (...a: unknown[]) => toErr().error(...a),
  };
};

const LEVELS = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
export type LogLevel = keyof typeof LEVELS;
const isLevel = (l: unknown): l is LogLevel => typeof l === 'string' && Object.hasOwn(LEVELS, l);
const levelName = (n: number) => (Object.keys(LEVELS) as LogLevel[]).find((k) => LEVELS[k] === n)!;
const RESERVED = ['level', 'message', 'sampling_rate', 'service', 'timestamp'];

/** The Lambda context fields a log line carries. */
export interface LogContext {
  invokedFunctionArn?: string;
  awsRequestId?: string;
  memoryLimitInMB?: string | number;
  functionName?: string;
  tenantId?: string;
}

/** The X-Ray trace id of this invocation (the Root of _X_AMZN_TRACE_ID), as Powertools reads it. */
const traceId = (): string | undefined => {
  const raw =
    (
      globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId(): string | undefined } } }
    ).awslambda?.InvokeStore?.getXRayTraceId() ?? env('_X_AMZN_TRACE_ID');
  if (raw === '') return undefined;
  if (!raw.includes('=')) return raw;
  return Object.fromEntries(raw.split(';').map((f) => f.split('=')))['Root'];
};

/** ISO timestamp, in UTC unless TZ names another zone (then with its offset), as Powertools writes it. */
const timestamp = (now: Date): string => {
  const tz = env('TZ');
  if (!tz || tz.includes('UTC')) return now.toISOString();
  let zone = tz;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    zone = 'UTC';
  }
  const two = '2-digit';
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en', {
      hourCycle: 'h23',
      year: 'numeric',
      month: two,
      day: two,
      hour: two,
      minute: two,
      second: two,
      timeZone: zone,
    })
      .formatToParts(now)
      .map((x) => [x.type, x.value]),
  );
  const offset = zone === tz ? -now.getTimezoneOffset() : 0;
  const pad = (n: number, w = 2) => Math.abs(n).toString().padStart(w, '0');
  return (
    `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}.${pad(now.getMilliseconds(), 3)}` +
    `${offset >= 0 ? '+' : '-'}${pad(Math.floor(offset / 60))}:${pad(offset % 60)}`
  );
};

/** `file:line` of the first stack frame in parentheses, as Powertools' `location`. */
const codeLocation = (stack?: string): string => {
  for (const line of stack?.split('\n') ?? []) {
    const m = /\(([^()]*?):(\d+?):(\d+?)\)\\?$/.exec(line);
    if (m) return `${m[1]}:${Number(m[2])}`;
  }
  return '';
};

/** An error as a log value: name, location, message, stack, cause (recursively), then its own fields. */
const formatError = (error: Error): Record<string, unknown> => {
  const { name, message, stack, cause, ...rest } = error as Error & Record<string, unknown>;
  const out: Record<string, unknown> = {
    name,
    location: codeLocation(stack),
    message,
    stack: devMode() && typeof stack === 'string' ? stack.split('\n') : stack,
    cause: cause instanceof Error ? formatError(cause) : cause,
  };
  for (const key in error) if (!['name', 'message', 'stack', 'cause'].includes(key)) out[key] = rest[key];
  return out;
};

/** JSON.stringify's replacer: errors formatted, bigints as strings, circular references dropped. */
const replacer = () => {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown) {
    const v = value instanceof Error ? formatError(value) : value;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'object' && v !== null) {
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(v)) return undefined;
      ancestors.push(v);
    }
    return v;
  };
};

type Extra = Record<string, unknown> | Error | string | null | undefined;

/** Structured JSON logs in Powertools' format; `service` is the capability (POWERTOOLS_SERVICE_NAME). */
export class Logger {
  readonly #service: string;
  readonly #console = stdConsole();
  readonly #indent = devMode() ? 4 : 0;
  readonly #logEvent = strictFlag('POWERTOOLS_LOGGER_LOG_EVENT');
  readonly #sampleRate: number = 0;
  readonly #alc: LogLevel | undefined;
  #initial: number = LEVELS.INFO;
  #level: number = LEVELS.INFO;
  #coldStart = onDemand();
  #context: (LogContext & { coldStart: boolean }) | undefined;
  #refreshed = 0;
  #warned = new Set<string>();

  constructor(options: { serviceName?: string } = {}) {
    this.#service = options.serviceName || env('POWERTOOLS_SERVICE_NAME') || NO_SERVICE;
    const lambdaLevel = env('AWS_LAMBDA_LOG_LEVEL');
    const alc = lambdaLevel === 'FATAL' ? 'CRITICAL' : lambdaLevel;
    // Lambda's advanced logging controls win over the function's own level.
    if (isLevel(alc)) this.#alc = alc;
    const own = env('POWERTOOLS_LOG_LEVEL') || env('LOG_LEVEL');
    if (this.#alc) this.#level = LEVELS[this.#alc];
    else if (isLevel(own)) this.#level = LEVELS[own];
    this.#initial = this.#level;
    const rate = Number(env('POWERTOOLS_LOGGER_SAMPLE_RATE') || 0);
    if (Number.isNaN(rate))
      throw new TypeError('Environment variable POWERTOOLS_LOGGER_SAMPLE_RATE must be a number');
    if (rate >= 0 && rate <= 1) {
      this.#sampleRate = rate;
      if (this.#sampled() && this.#level > LEVELS.TRACE) {
        this.setLogLevel('DEBUG');
        this.debug('Setting log level to DEBUG due to sampling rate');
      }
    }
  }

  debug(message: string, ...extra: Extra[]): void {
    this.#log(LEVELS.DEBUG, message, extra);
  }
  info(message: string, ...extra: Extra[]): void {
    this.#log(LEVELS.INFO, message, extra);
  }
  warn(message: string, ...extra: Extra[]): void {
    this.#log(LEVELS.WARN, message, extra);
  }
  error(message: string, ...extra: Extra[]): void {
    this.#log(LEVELS.ERROR, message, extra);
  }
  critical(message: string, ...extra: Extra[]): void {
    this.#log(LEVELS.CRITICAL, message, extra);
  }

  getLevelName(): LogLevel {
    return levelName(this.#level);
  }

  setLogLevel(level: LogLevel): void {
    if (this.#alc) {
      if (isLevel(level) && LEVELS[this.#alc] > LEVELS[level]) {
        this.#warnOnce(
          `Current log level (${level}) does not match AWS Lambda Advanced Logging Controls minimum log level (${this.#alc}). This can lead to data loss, consider adjusting them.`,
        );
      }
      return;
    }
    if (!isLevel(level)) throw new Error(`Invalid log level: ${String(level)}`);
    this.#level = LEVELS[level];
  }

  /** The invocation's Lambda context, added to every line (cold_start true once, on-demand only). */
  addContext(context: LogContext): void {
    const cold = this.#coldStart;
    this.#coldStart = false;
    this.#context = {
      invokedFunctionArn: context.invokedFunctionArn,
      coldStart: cold,
      awsRequestId: context.awsRequestId,
      memoryLimitInMB: context.memoryLimitInMB,
      functionName: context.functionName,
      tenantId: context.tenantId,
    } as LogContext & { coldStart: boolean };
  }

  /** Before each invocation: re-draw debug sampling (not on the first), add the context, log the event if asked. */
  startInvocation(event: unknown, context: LogContext): void {
    if (this.#refreshed++ > 0) {
      if (this.#sampled() && this.#level > LEVELS.TRACE) {
        this.setLogLevel('DEBUG');
        this.debug('Setting log level to DEBUG due to sampling rate');
      } else this.setLogLevel(levelName(this.#initial));
    }
    this.addContext(context);
    if (this.#logEvent) this.info('Lambda invocation event', { event });
  }

  #sampled(): boolean {
    return !!this.#sampleRate && randomInt(0, 100) / 100 <= this.#sampleRate;
  }

  #warnOnce(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.warn(message);
  }

  #log(level: number, input: string | ({ message: string } & Record<string, unknown>), extra: Extra[]): void {
    if (level < this.#level) return;
    const now = new Date();
    const trace = traceId();
    const ctx = this.#context;
    const added: Record<string, unknown> = {};
    const addAll = (o: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(o)) {
        if (RESERVED.includes(k)) this.warn(`The key "${k}" is a reserved key and will be dropped.`);
        else added[k] = v;
      }
    };
    let message = input;
    if (typeof input !== 'string') {
      const { message: m, ...rest } = input;
      message = m;
      addAll(rest);
    }
    for (const item of extra) {
      if (item === null || item === undefined) continue;
      if (item instanceof Error) added.error = item;
      else if (typeof item === 'string') added.extra = item;
      else addAll(item);
    }
    const record: Record<string, unknown> = {
      level: levelName(level),
      message,
      timestamp: timestamp(now),
      service: this.#service,
      cold_start: ctx?.coldStart,
      function_arn: ctx?.invokedFunctionArn,
      function_memory_size: ctx?.memoryLimitInMB,
      function_name: ctx?.functionName,
      function_request_id: ctx?.awsRequestId,
      sampling_rate: this.#sampleRate,
      xray_trace_id: trace,
      tenant_id: ctx?.tenantId,
    };
    for (const k of Object.keys(added)) {
      if (UNSAFE_KEYS.includes(k)) continue;
      if (added[k] !== undefined || record[k] === undefined) record[k] = added[k];
    }
    for (const k of Object.keys(record))
      if (record[k] === undefined || record[k] === '' || record[k] === null) delete record[k];
    const method =
      level === LEVELS.CRITICAL
        ? 'error'
        : level <= LEVELS.DEBUG
          ? level === LEVELS.DEBUG
            ? 'debug'
            : 'log'
          : (levelName(level).toLowerCase() as 'info' | 'warn' | 'error');
    this.#console[method](JSON.stringify(record, replacer(), this.#indent));
  }
}

/** CloudWatch metric units (EMF `Unit`), as Powertools names them. */
export const MetricUnit = {
  Seconds: 'Seconds',
  Microseconds: 'Microseconds',
  Milliseconds: 'Milliseconds',
  Bytes: 'Bytes',
  Kilobytes: 'Kilobytes',
  Megabytes: 'Megabytes',
  Gigabytes: 'Gigabytes',
  Terabytes: 'Terabytes',
  Bits: 'Bits',
  Kilobits: 'Kilobits',
  Megabits: 'Megabits',
  Gigabits: 'Gigabits',
  Terabits: 'Terabits',
  Percent: 'Percent',
  Count: 'Count',
  BytesPerSecond: 'Bytes/Second',
  KilobytesPerSecond: 'Kilobytes/Second',
  MegabytesPerSecond: 'Megabytes/Second',
  GigabytesPerSecond: 'Gigabytes/Second',
  TerabytesPerSecond: 'Terabytes/Second',
  BitsPerSecond: 'Bits/Second',
  KilobitsPerSecond: 'Kilobits/Second',
  MegabitsPerSecond: 'Megabits/Second',
  GigabitsPerSecond: 'Gigabits/Second',
  TerabitsPerSecond: 'Terabits/Second',
  CountPerSecond: 'Count/Second',
  NoUnit: 'None',
} as const;
export type MetricUnit = (typeof MetricUnit)[keyof typeof MetricUnit];
const UNITS: readonly string[] = Object.values(MetricUnit);

// EMF limits, as Powertools enforces them: 100 metrics per document, 100 values per metric, 29 dimensions.
const MAX_METRICS = 100;
const MAX_VALUES = 100;
const MAX_DIMENSIONS = 29;
const blank = (v: unknown) => typeof v !== 'string' || v.trim().length === 0;

interface StoredMetric {
  name: string;
  unit: MetricUnit;
  value: number | number[];
  /** What of each value is news in the scope's place (`perTarget`), one per value. */
  placed: number[];
}

/** Options of steward's own (Powertools' addMetric takes three arguments). */
export interface MetricOptions {
  /**
   * Under a scope (setScope: a fleet child's Account and Region), the part of `value` that is news in that
   * place; the per-target series gets the metric only when this is above zero. Default: `value`, so a zero
   * never makes a per-target series. 0 keeps the metric fleet-wide only (a gauge, a resting state).
   */
  perTarget?: number;
}

/** EMF metrics in Powertools' format: stored per invocation, flushed by `publishStoredMetrics`. */
export class Metrics {
  readonly #console = stdConsole();
  readonly #namespace: string;
  readonly #single: boolean;
  readonly #disabled: boolean;
  readonly #defaults: Record<string, string>;
  #dimensions: Record<string, string> = {};
  #stored: Record<string, StoredMetric> = {};
  #scope: Record<string, string> | undefined;

  constructor(
    options: {
      namespace?: string;
      serviceName?: string;
      singleMetric?: boolean;
      defaultDimensions?: Record<string, string>;
    } = {},
  ) {
    const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
    if (disabled !== undefined) {
      const v = disabled.trim().toLowerCase();
      if (!TRUE.includes(v) && !FALSE.includes(v))
        throw new Error('Environment variable POWERTOOLS_METRICS_DISABLED must be a boolean');
      this.#disabled = TRUE.includes(v);
    } else this.#disabled = devMode();
    this.#namespace = options.namespace || env('POWERTOOLS_METRICS_NAMESPACE');
    const service = options.serviceName || env('POWERTOOLS_SERVICE_NAME') || NO_SERVICE;
    this.#defaults = {};
    for (const [k, v] of Object.entries({ service, ...options.defaultDimensions })) {
      if (blank(k) || blank(v)) {
        this.#console.warn(
          `The dimension ${k} doesn't meet the requirements and won't be added. Ensure the dimension name and value are non empty strings`,
        );
      } else this.#defaults[k] = v;
    }
    this.#single = options.singleMetric ?? false;
  }

  addDimension(name: string, value: string): this {
    if (blank(name) || blank(value)) {
      this.#console.warn(
        `The dimension ${name} doesn't meet the requirements and won't be added. Ensure the dimension name and value are non empty strings`,
      );
      return this;
    }
    if (
      new Set([...Object.keys(this.#defaults), ...Object.keys(this.#dimensions), name]).size > MAX_DIMENSIONS
    )
      throw new RangeError(`The number of metric dimensions must be lower than ${MAX_DIMENSIONS}`);
    if (Object.hasOwn(this.#dimensions, name) || Object.hasOwn(this.#defaults, name))
      this.#console.warn(
        `Dimension "${name}" has already been added. The previous value will be overwritten.`,
      );
    this.#dimensions[name] = value;
    return this;
  }

  addMetric(name: string, unit: MetricUnit, value: number, options: MetricOptions = {}): this {
    if (typeof name !== 'string') throw new Error(`${String(name)} is not a valid string`);
    if (name.length < 1 || name.length > 255)
      throw new RangeError('The metric name should be between 1 and 255 characters');
    if (typeof value !== 'number') throw new RangeError(`${String(value)} is not a valid number`);
    if (!UNITS.includes(unit))
      throw new RangeError(
        `Invalid metric unit '${String(unit)}', expected either option: ${UNITS.join(',')}`,
      );
    const placed = options.perTarget ?? value;
    if (typeof placed !== 'number' || placed < 0 || placed > value)
      throw new RangeError(
        `${name}: perTarget ${String(placed)} must be a number from 0 to the value ${value}`,
      );
    if (Object.keys(this.#stored).length >= MAX_METRICS) this.publishStoredMetrics();
    const existing = this.#stored[name];
    if (!existing) this.#stored[name] = { name, unit, value, placed: [placed] };
    else {
      if (existing.unit !== unit)
        throw new Error(
          `Metric "${name}" has already been added with unit "${existing.unit}", but we received unit "${unit}". Did you mean to use metric unit "${existing.unit}"?`,
        );
      if (!Array.isArray(existing.value)) existing.value = [existing.value];
      existing.value.push(value);
      existing.placed.push(placed);
      if (existing.value.length === MAX_VALUES) this.publishStoredMetrics();
    }
    if (this.#single) this.publishStoredMetrics();
    return this;
  }

  /** A metrics object that publishes each metric at once, with its own dimensions (and the defaults). */
  singleMetric(): Metrics {
    const m = new Metrics({
      namespace: this.#namespace,
      defaultDimensions: this.#defaults,
      singleMetric: true,
    });
    m.#scope = this.#scope;
    return m;
  }

  /**
   * Steward's own (Powertools has no such call): until the next call, a document also publishes the metrics
   * that are news in `scope`'s place (a fleet child's Account and Region) under a second dimension set, its
   * usual one plus `scope`: a count above zero by default, or the `perTarget` part addMetric was given.
   * The usual set always carries every metric (the fleet's totals: what alarms and dashboards read), and a
   * single-account stage, which sets no scope, publishes exactly what it did. Each set is its own custom
   * metric billed per hour it receives data, so a per-target series costs only while its target has
   * something to say; the scope's fields stay in every document's log line, so Logs Insights can still
   * break any metric down by Account and Region.
   */
  setScope(scope: Record<string, string> | undefined): this {
    const bad = Object.entries(scope ?? {}).find(([k, v]) => blank(k) || blank(v));
    if (bad) throw new RangeError(`metric scope dimension ${bad[0]} must be a non-empty string`);
    this.#scope = scope && Object.keys(scope).length ? { ...scope } : undefined;
    return this;
  }

  /** Write the stored metrics as one EMF document (stdout), then clear metrics and dimensions. */
  publishStoredMetrics(): this {
    const metrics = Object.values(this.#stored);
    if (!metrics.length) {
      this.#console.warn(
        'No application metrics to publish. The cold-start metric may be published if enabled. ' +
          'If application metrics should never be empty, consider using `throwOnEmptyMetrics`',
      );
    }
    try {
      if (!this.#disabled) {
        const docs = this.#documents(metrics);
        if (metrics.length) for (const doc of docs) this.#console.log(JSON.stringify(doc));
      }
    } finally {
      this.#stored = {};
      this.#dimensions = {};
    }
    return this;
  }

  /**
   * The EMF documents of the stored metrics: one, unless a metric's per-target part differs from its value
   * (then a second document carries those parts under the scoped set only). In the first, the usual set
   * carries every metric; the scoped set the metrics wholly news in the place (the one dimension set list
   * Powertools writes when every metric is, two directives when some are not).
   */
  #documents(metrics: StoredMetric[]): Record<string, unknown>[] {
    if (!this.#namespace) this.#console.warn('Namespace should be defined, default used');
    const usual = Object.keys(this.#dimensions).length
      ? [...new Set([...Object.keys(this.#defaults), ...Object.keys(this.#dimensions)])]
      : Object.keys(this.#defaults);
    const directive = (dimensions: string[][], ms: StoredMetric[]) => ({
      Namespace: this.#namespace || 'default_namespace',
      Dimensions: dimensions,
      Metrics: ms.map((m) => ({ Name: m.name, Unit: m.unit })),
    });
    const base = usual.length ? [usual] : [];
    if (!this.#scope) return [this.#serialize([directive(base, metrics)], metrics, (m) => m.value)];
    const scoped = [...new Set([...usual, ...Object.keys(this.#scope)])];
    const values = (m: StoredMetric) => [m.value].flat();
    const news = (m: StoredMetric) => m.placed.some((v) => v > 0);
    const whole = metrics.filter((m) => news(m) && m.placed.every((v, i) => v === values(m)[i]));
    const part = metrics.filter((m) => news(m) && !whole.includes(m));
    const placedValue = (m: StoredMetric) => (m.placed.length === 1 ? m.placed[0]! : m.placed);
    const first =
      whole.length === metrics.length
        ? [directive([...base, scoped], metrics)]
        : [directive(base, metrics), ...(whole.length ? [directive([scoped], whole)] : [])];
    return [
      this.#serialize(first, metrics, (m) => m.value),
      // Marked: its values repeat a part of the counts in the line before, which Logs Insights sums would
      // count twice (`filter not ispresent(perTargetPart)` leaves it out).
      ...(part.length
        ? [{ ...this.#serialize([directive([scoped], part)], part, placedValue), perTargetPart: true }]
        : []),
    ];
  }

  #serialize(
    directives: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[],
    metrics: StoredMetric[],
    valueOf: (m: StoredMetric) => number | number[],
  ) {
    const values = Object.fromEntries(metrics.map((m) => [m.name, valueOf(m)]));
    const scope = this.#scope ?? {};
    const seen = new Map<string, string>();
    for (const [keys, source] of [
      [Object.keys(this.#defaults), 'default dimension'],
      [Object.keys(this.#dimensions), 'dimension'],
      [Object.keys(scope), 'scope dimension'],
    ] as const) {
      for (const k of keys) {
        const before = seen.get(k);
        if (before !== undefined)
          this.#console.warn(
            `EMF key "${k}" is defined as both a ${before} and ${source}; the ${source} value will take precedence in the serialized output`,
          );
        seen.set(k, source);
      }
    }
    for (const name of Object.keys(values)) {
      const source = seen.get(name);
      if (source !== undefined)
        throw new Error(
          `EMF key collision on "${name}": registered as both a metric (number) and a ${source} (string)`,
        );
    }
    return {
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: directives },
      ...this.#defaults,
      ...this.#dimensions,
      ...scope,
      ...values,
    };
  }
}

interface MiddyRequest {
  event: unknown;
  context: LogContext;
}

/** Middy middleware: each invocation's Lambda context in every log line (Powertools' injectLambdaContext). */
export const injectLambdaContext = (log: Logger) => ({
  before: (request: MiddyRequest): void => log.startInvocation(request.event, request.context),
});

/** Middy middleware: publish the stored metrics after each invocation, also when it fails (Powertools' logMetrics). */
export const logMetrics = (m: Metrics) => ({
  after: (): void => void m.publishStoredMetrics(),
  onError: (): void => void m.publishStoredMetrics(),
});

/** The one structured logger; `service` is the capability name (set by POWERTOOLS_SERVICE_NAME). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'steward' });

/**
 * The one EMF metrics emitter, namespace `Steward`. Built in a pure call (its service read inside it), so a
 * bundle that publishes no metrics (the drill verifier) drops it and the Metrics class.
 */
export const metrics = /* @__PURE__ */ (() =>
  new Metrics({ namespace: 'Steward', serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'steward' }))();

/**
 * Count something that happened: sent only when it is above zero. CloudWatch bills a custom metric for
 * every hour it receives data ($0.30 a month if sent hourly), so a quiet hour costs nothing; graphs and
 * alarms read a missing count as zero. In a fleet child, `perTarget` (default: all of it) is the part that is
 * news in the child's target, the only part its per-target series gets (Metrics.setScope).
 */
export const addCount = (name: string, n: number, perTarget = n): void => {
  if (n <= 0) return;
  if (perTarget === n) metrics.addMetric(name, MetricUnit.Count, n);
  else metrics.addMetric(name, MetricUnit.Count, n, { perTarget });
};
