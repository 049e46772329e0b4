import { describe, expect, it } from 'vitest';
import { FANOUT, mapLimit, tokenBucket } from '../../shared/pool.js';

describe('mapLimit', () => {
  it('keeps input order and never runs more than the limit at once', async () => {
    // Prepare
    let running = 0;
    let peak = 0;
    // Act
    const out = await mapLimit(
      Array.from({ length: 25 }, (_, i) => i),
      FANOUT,
      async (i) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, (i * 7) % 3));
        running--;
        return i * 2;
      },
    );
    // Assert
    expect(out).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    expect(peak).toBe(FANOUT);
  });

  it('rejects with the first failure, and refuses a limit that would never start anything', async () => {
    // Act / Assert
    await expect(
      mapLimit([1, 2, 3], 2, async (i) => {
        if (i === 2) throw new Error('two');
        return i;
      }),
    ).rejects.toThrow('two');
    await expect(mapLimit([1], 0, async (i) => i)).rejects.toThrow(/positive integer/);
  });

  it('does nothing for no items', async () => {
    expect(await mapLimit([], 3, async () => 1)).toEqual([]);
  });
});

describe('tokenBucket', () => {
  /** A clock that only moves when the bucket sleeps: start times are exact, and no test waits. */
  const fakeTime = () => {
    let t = 1_000_000;
    return {
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
      },
      at: () => t,
    };
  };

  it('lets a burst start at once, then one call per interval', async () => {
    // Prepare
    const clock = fakeTime();
    const bucket = tokenBucket({ ratePerSecond: 10, burst: 3, ...clock });
    const starts: number[] = [];
    const t0 = clock.at();
    // Act
    for (let i = 0; i < 6; i++) {
      await bucket.take();
      starts.push(clock.at() - t0);
    }
    // Assert
    expect(starts).toEqual([0, 0, 0, 100, 200, 300]);
  });

  it('sustains exactly the rate once the burst is spent', async () => {
    // Prepare
    const clock = fakeTime();
    const bucket = tokenBucket({ ratePerSecond: 12, burst: 5, ...clock });
    const t0 = clock.at();
    // Act
    for (let i = 0; i < 41; i++) await bucket.take();
    // Assert: 41 calls at 12/s after a burst of 5 take (41 - 5) / 12 = 3 s.
    expect(clock.at() - t0).toBeCloseTo(3000, 6);
  });

  it('refills after a quiet spell, but never beyond the burst', async () => {
    // Prepare
    const clock = fakeTime();
    const bucket = tokenBucket({ ratePerSecond: 1, burst: 2, ...clock });
    for (let i = 0; i < 4; i++) await bucket.take();
    const before = clock.at();
    // Act: an hour of silence, then five calls.
    await clock.sleep(3_600_000);
    const t0 = clock.at();
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await bucket.take();
      starts.push(clock.at() - t0);
    }
    // Assert
    expect(before).toBeGreaterThan(0);
    expect(starts).toEqual([0, 0, 1000, 2000, 3000]);
  });

  it('refuses a rate or burst that is not positive', () => {
    expect(() => tokenBucket({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => tokenBucket({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
