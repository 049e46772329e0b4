import type * as NodeFs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Reading process.stdout or process.stderr builds a stream: 11-16 M instructions (2-3 ms of CPU) of a cold
// start (Node 22, a pipe as in Lambda). The logger and the EMF writer write each line to descriptor 1 or 2
// instead, and fall back to the stream only where the descriptor refuses a write. Each test counts reads of the
// stream properties and records the descriptor writes while a fresh copy of shared/observability.ts is used.
const fds = vi.hoisted(() => ({
  writes: [] as string[],
  /** Refuse every write to these descriptors (EAGAIN). */
  refuse: new Set<number>(),
  /** The most bytes one write takes (a pipe taking part of a line). */
  most: Infinity,
}));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  const writeSync = (fd: number, buffer: Uint8Array, offset = 0): number => {
    if (fd !== 1 && fd !== 2) return fs.writeSync(fd, buffer, offset);
    if (fds.refuse.has(fd))
      throw Object.assign(new Error('EAGAIN: resource temporarily unavailable'), { code: 'EAGAIN' });
    const part = Buffer.from(buffer).subarray(offset, offset + fds.most);
    fds.writes.push(`fd${fd}: ${part.toString()}`);
    return part.length;
  };
  return { ...fs, writeSync, default: { ...fs, writeSync } };
});

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
  fds.writes.length = 0;
  fds.refuse.clear();
  fds.most = Infinity;
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

describe('the log and metric lines', () => {
  it('go to descriptors 1 and 2, warnings included, and neither stream is ever opened', async () => {
    // Prepare
    asDeployed();
    const { reads, lines } = watch();

    // Act
    const o = await fresh();
    o.logger.info('first invoke', { sent: 1 });
    o.metrics.addMetric('Sent', o.MetricUnit.Count, 1);
    o.metrics.publishStoredMetrics();
    o.logger.warn('careful');
    o.metrics.publishStoredMetrics();

    // Assert
    expect(reads).toEqual({ stdout: 0, stderr: 0 });
    expect(lines).toEqual([]);
    expect(fds.writes).toEqual([
      expect.stringMatching(/^fd1: \{"level":"INFO","message":"first invoke".*"sent":1\}\n$/),
      expect.stringMatching(/^fd1: \{"_aws":.*"Sent":1\}\n$/),
      expect.stringMatching(/^fd2: \{"level":"WARN","message":"careful"/),
      'fd2: No application metrics to publish. The cold-start metric may be published if enabled. If application metrics should never be empty, consider using `throwOnEmptyMetrics`\n',
    ]);
  });

  it('are written whole when a descriptor takes a line in parts', async () => {
    // Prepare
    asDeployed();
    fds.most = 7;
    const o = await fresh();

    // Act
    o.logger.warn('careful');

    // Assert
    expect(fds.writes.length).toBeGreaterThan(10);
    expect(fds.writes.map((w) => w.slice('fd2: '.length)).join('')).toMatch(
      /^\{"level":"WARN","message":"careful".*\}\n$/,
    );
  });

  it('go through the stream, from then on, where the descriptor refuses a write', async () => {
    // Prepare
    asDeployed();
    const { reads, lines } = watch();
    const o = await fresh();
    fds.refuse.add(2);

    // Act
    o.logger.warn('careful');
    fds.refuse.clear();
    o.logger.error('still careful');
    o.logger.info('fine');

    // Assert
    expect(reads.stderr).toBeGreaterThan(0);
    expect(reads.stdout).toBe(0);
    expect(lines).toEqual([
      expect.stringMatching(/^stderr: \{"level":"WARN","message":"careful"/),
      expect.stringMatching(/^stderr: \{"level":"ERROR","message":"still careful"/),
    ]);
    expect(fds.writes).toEqual([expect.stringMatching(/^fd1: \{"level":"INFO","message":"fine"/)]);
  });
});
