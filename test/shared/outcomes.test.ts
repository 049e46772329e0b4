import { describe, expect, it } from 'vitest';
import { PartialFailureError } from '../../shared/errors.js';
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
});
