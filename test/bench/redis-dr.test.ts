import { describe, expect, it } from 'vitest';
import { benchRedisDr } from '../../bench/redis-dr.js';

describe('the redis-dr bench', () => {
  it('an event costs its own five requests, the hourly run and retention their pages; the old way would fail each row', async () => {
    // Act: 3 caches x 7 snapshots (21; one page of each listing).
    const rows = await benchRedisDr([3]);

    // Assert
    expect(rows.map((r) => [r.value, r.target, r.ok])).toEqual([
      ['5', '<= 5 (minimum, from the estate)', true],
      ['4', '<= 4 (minimum, from the estate)', true],
      ['1', "<= 1 (minimum: the listing's pages)", true],
      ['1', "<= 1 (minimum: the listing's pages)", true],
    ]);
    // Deleting 3 copies with a listing each, as before, would list 4 times.
    expect(rows[3]!.baseline).toMatch(/^4 /);
    // Retention as before read each of the 20 copies' tags.
    expect(rows[2]!.baseline).toMatch(/^21 /);
    // The baseline (a full run, tags one snapshot at a time) is above the minimum: the row can fail.
    for (const r of rows) expect(Number(r.baseline.split(' ')[0])).toBeGreaterThan(Number(r.value));
  });
});
