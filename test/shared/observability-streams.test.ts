import { afterEach, describe, expect, it, vi } from 'vitest';

// Opening process.stderr costs a cold start 1-3 ms of CPU (Node 22, a pipe as in Lambda); the logger and the
// EMF writer open it only for a warn or error line. Each test counts reads of the stream properties while a
// fresh copy of shared/observability.ts is imported and used.
const streams = ['stdout', 'stderr'] as const;
const saved = streams.map((s) => [s, Object.getOwnPropertyDescriptor(process, s)!] as const);
const writes = { stdout: process.stdout.write, stderr: process.stderr.write };

const watch = () => {
  const reads = { stdout: 0, stderr: 0 };
  const lines: string[] = [];
  for (const [s, d] of saved) {
    const stream = d.get!.call(process) as NodeJS.WriteStream;
    stream.write = ((chunk: string | Uint8Array) => {
      lines.push(`${s}: ${String(chunk).trim()}`);
      return true;
    }) as typeof stream.write;
    Object.defineProperty(process, s, {
      configurable: true,
      enumerable: d.enumerable,
      get: () => {
        reads[s]++;
        return stream;
      },
    });
  }
  return { reads, lines };
};

afterEach(() => {
  for (const [s, d] of saved) Object.defineProperty(process, s, d);
  process.stdout.write = writes.stdout;
  process.stderr.write = writes.stderr;
  vi.unstubAllEnvs();
});

// test/setup.ts silences both (dev mode, level SILENT, metrics off): these tests write as a function does.
const asDeployed = () => {
  vi.stubEnv('POWERTOOLS_DEV', 'false');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
};

const fresh = async () => {
  vi.resetModules();
  return import('../../shared/observability.js');
};

describe('the log and metric streams', () => {
  it('are not opened at import, and a run that logs and publishes without warning never opens stderr', async () => {
    // Prepare
    asDeployed();
    const { reads, lines } = watch();

    // Act
    const o = await fresh();
    const atImport = { ...reads };
    o.logger.info('first invoke', { sent: 1 });
    o.metrics.addMetric('Sent', o.MetricUnit.Count, 1);
    o.metrics.publishStoredMetrics();

    // Assert
    expect(atImport).toEqual({ stdout: 0, stderr: 0 });
    expect(reads.stderr).toBe(0);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.startsWith('stdout: {'))).toBe(true);
  });

  it('writes a warning to stderr, opening it then', async () => {
    // Prepare
    asDeployed();
    const { reads, lines } = watch();
    const o = await fresh();

    // Act
    o.logger.warn('careful');

    // Assert
    expect(reads.stderr).toBeGreaterThan(0);
    expect(lines).toEqual([expect.stringMatching(/^stderr: \{"level":"WARN","message":"careful"/)]);
  });
});
