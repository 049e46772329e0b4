import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { doubling, retrying } from '../../shared/retry.js';

/** `f` failing with `errors` in turn, then answering 'ok'; its attempts counted. */
const failing = (...errors: Error[]) => {
  const seen: number[] = [];
  const f = async (attempt: number) => {
    seen.push(attempt);
    const e = errors[attempt - 1];
    if (e) throw e;
    return 'ok';
  };
  return { f, seen };
};
const boom = (name = 'Boom') => Object.assign(new Error(name), { name });

describe('retrying', () => {
  it('answers at once when the first attempt does, without waiting', async () => {
    // Prepare
    const waited: number[] = [];
    const { f, seen } = failing();
    // Act
    const r = await retrying(f, { waitsMs: [10, 20], sleep: async (ms) => void waited.push(ms) });
    // Assert
    expect(r).toBe('ok');
    expect(seen).toEqual([1]);
    expect(waited).toEqual([]);
  });

  it('waits each wait in turn between attempts, and answers once an attempt does', async () => {
    // Prepare
    const waited: number[] = [];
    const { f, seen } = failing(boom(), boom());
    // Act
    const r = await retrying(f, { waitsMs: [10, 20, 40], sleep: async (ms) => void waited.push(ms) });
    // Assert
    expect(r).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
    expect(waited).toEqual([10, 20]);
  });

  it('throws the last error as it was once the waits run out', async () => {
    // Prepare
    const last = boom('Last');
    const { f, seen } = failing(boom(), boom(), last);
    // Act
    const e = await retrying(f, { waitsMs: [1, 1], sleep: async () => {} }).catch((x: unknown) => x);
    // Assert
    expect(e).toBe(last);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('does not retry an error the predicate refuses', async () => {
    // Prepare
    const final = boom('AccessDenied');
    const { f, seen } = failing(boom('Throttled'), final);
    const waited: number[] = [];
    // Act
    const e = await retrying(f, {
      waitsMs: [5, 5, 5],
      retryable: (x) => (x as Error).name === 'Throttled',
      sleep: async (ms) => void waited.push(ms),
    }).catch((x: unknown) => x);
    // Assert
    expect(e).toBe(final);
    expect(seen).toEqual([1, 2]);
    expect(waited).toEqual([5]);
  });

  it('with full jitter waits a random time below each wait', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), async (r) => {
        // Prepare
        const waited: number[] = [];
        const { f } = failing(boom(), boom());
        // Act
        await retrying(f, {
          waitsMs: [100, 200],
          jitter: true,
          random: () => r,
          sleep: async (ms) => void waited.push(ms),
        });
        // Assert
        expect(waited).toEqual([Math.floor(r * 100), Math.floor(r * 200)]);
        expect(waited[0]).toBeLessThan(100);
        expect(waited[1]).toBeLessThan(200);
      }),
    );
  });

  it('starts no retry whose wait would end at or past the deadline: the last error is thrown', async () => {
    // Prepare: the clock moves only by the waits
    let t = 1_000;
    const waited: number[] = [];
    const last = boom('Second');
    const { f, seen } = failing(boom('First'), last, boom('Third'));
    // Act
    const e = await retrying(f, {
      waitsMs: [100, 200, 400],
      deadline: 1_250,
      now: () => t,
      sleep: async (ms) => {
        waited.push(ms);
        t += ms;
      },
    }).catch((x: unknown) => x);
    // Assert: 1 000 + 100 is before 1 250; 1 100 + 200 is not
    expect(e).toBe(last);
    expect(seen).toEqual([1, 2]);
    expect(waited).toEqual([100]);
  });

  it('with no waits is one attempt', async () => {
    const { f, seen } = failing(boom());
    await expect(retrying(f, { waitsMs: [] })).rejects.toThrow('Boom');
    expect(seen).toEqual([1]);
  });
});

describe('doubling', () => {
  it('doubles from the first wait, one wait per retry', () => {
    expect(doubling(500, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(doubling(1000, 0)).toEqual([]);
  });
});
