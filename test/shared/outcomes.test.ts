import { describe, expect, it } from 'vitest';
import { AwsCallError, PartialFailureError } from '../../shared/errors.js';
import { settleEach, tally, throwIfFailed } from '../../shared/outcomes.js';

describe('settleEach', () => {
  it('runs every item even when one fails, keeping input order', async () => {
    // Prepare
    const items = ['a', 'b', 'c', 'd', 'e'];
    // Act
    const out = await settleEach(
      items,
      async (x) => {
        if (x === 'b') throw new Error('boom');
        return { resource: x, action: 'act', status: 'done' };
      },
      (x) => ({ resource: x, action: 'act' }),
      2,
    );
    // Assert
    expect(out.map((o) => `${o.resource}:${o.status}`)).toEqual([
      'a:done',
      'b:failed',
      'c:done',
      'd:done',
      'e:done',
    ]);
    expect(tally(out)).toMatchObject({ done: 4, failed: 1 });
  });

  it('never runs more than the concurrency limit at once', async () => {
    // Prepare
    let running = 0;
    let peak = 0;
    // Act
    await settleEach(
      Array.from({ length: 20 }, (_, i) => i),
      async (i) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 1));
        running--;
        return { resource: String(i), action: 'a', status: 'done' };
      },
      (i) => ({ resource: String(i), action: 'a' }),
      3,
    );
    // Assert
    expect(peak).toBe(3);
  });

  it('throws once, naming each failed resource, only when something failed', () => {
    // Act / Assert
    expect(() =>
      throwIfFailed('backup', [{ resource: 'db1', action: 'create', status: 'done' }]),
    ).not.toThrow();
    expect(() =>
      throwIfFailed('backup', [
        { resource: 'db1', action: 'create', status: 'failed', error: 'AccessDenied' },
        { resource: 'db2', action: 'create', status: 'done' },
      ]),
    ).toThrow(
      new PartialFailureError('backup: 1 of 2 actions failed', [{ resource: 'db1', error: 'AccessDenied' }]),
    );
  });

  it('keeps the original error of a failed item: name, code and cause survive into PartialFailureError', async () => {
    // Prepare
    const sdk = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} });
    const wrapped = new AwsCallError('DeleteDBSnapshot', 'snapshot s1 in eu-west-1', sdk);

    // Act
    const out = await settleEach(
      ['s1', 's2'],
      async (x) => {
        if (x === 's1') throw wrapped;
        return { resource: x, action: 'delete', status: 'done' };
      },
      (x) => ({ resource: x, action: 'delete' }),
    );
    const err = (() => {
      try {
        throwIfFailed('retention', out);
      } catch (e) {
        return e as PartialFailureError;
      }
    })();

    // Assert: the outcome carries the SDK error's name as `code` (serialisable), the error itself as `cause`.
    expect(out[0]).toMatchObject({ status: 'failed', code: 'ThrottlingException' });
    expect((out[0] as { cause?: unknown }).cause).toBe(wrapped);
    // ...and the run's one error keeps every original, its SDK cause included.
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err!.failures[0]).toMatchObject({ resource: 's1', code: 'ThrottlingException' });
    expect(err!.failures[0]!.cause).toBe(wrapped);
    expect(err!.errors).toEqual([wrapped]);
    expect((err!.errors[0] as AwsCallError).cause).toBe(sdk);
    expect(err!.cause).toBe(wrapped);
    // The error stays out of serialised reports: outcomes go into SNS messages and logs as JSON.
    expect(JSON.parse(JSON.stringify(out[0]))).toEqual({
      resource: 's1',
      action: 'delete',
      status: 'failed',
      error: wrapped.message,
      code: 'ThrottlingException',
    });
  });
});

describe('PartialFailureError stays readable at any number of failures', () => {
  it('5000 failures: the message names the first few, counts the rest, and every original is kept', () => {
    // Prepare
    const causes = Array.from({ length: 5000 }, (_, i) =>
      Object.assign(
        new Error(`Cannot delete snapshot ${i}: ${'it is in use by an export task. '.repeat(30)}`),
        {
          name: 'InvalidDBSnapshotStateFault',
        },
      ),
    );
    const failures = causes.map((cause, i) => ({
      resource: `snapshot s${i}`,
      error: cause.message,
      code: cause.name,
      cause,
    }));
    // Act
    const e = new PartialFailureError('retention: 5000 of 5000 actions failed', failures);
    // Assert: the message is bounded (a Lambda error report, a log line, a DLQ attribute).
    expect(e.message.length).toBeLessThan(8000);
    expect(e.message).toMatch(
      /^retention: 5000 of 5000 actions failed: snapshot s0 \(Cannot delete snapshot 0: /,
    );
    expect(e.message).toMatch(/; and 4990 more$/);
    expect(e.message).not.toContain('snapshot s10 (');
    // The first failure's text is cut with a marker; the original keeps it whole.
    expect(e.message).toContain('... (');
    expect(e.failures).toHaveLength(5000);
    expect(e.errors).toHaveLength(5000);
    expect(e.errors[4999]).toBe(causes[4999]);
    expect(e.failures[4999]).toMatchObject({
      code: 'InvalidDBSnapshotStateFault',
      error: causes[4999]!.message,
    });
    expect(e.cause).toBe(causes[0]);
  });

  it('a few failures read exactly as before', () => {
    // Act
    const e = new PartialFailureError('backup: 2 of 3 actions failed', [
      { resource: 'db1', error: 'AccessDenied' },
      { resource: 'db2', error: 'Throttling' },
    ]);
    // Assert
    expect(e.message).toBe('backup: 2 of 3 actions failed: db1 (AccessDenied); db2 (Throttling)');
  });
});
