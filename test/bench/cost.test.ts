import { describe, expect, it } from 'vitest';
import { benchCost } from '../../bench/cost.js';

describe('the cost bench', () => {
  it('runs the Cost Explorer check it measures, daily and hourly, and counts its requests', async () => {
    // Act: one run each (the bench's own count is larger; the rows are the same).
    const rows = await benchCost(1);

    // Assert: every row measured something (a config the schema refuses stopped the whole bench before)
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.value).toMatch(/\d/);
    expect(rows.some((r) => /requests per run/.test(r.metric))).toBe(true);
  });
});
