/** Median of a non-empty sample. */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One row of the bench table: a measured value, what it is compared with, and the verdict. */
export interface BenchRow {
  bench: string;
  metric: string;
  value: string;
  baseline: string;
  ratio?: number;
  target: string;
  ok: boolean;
}
