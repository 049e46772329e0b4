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

/** Median of the ratios of paired samples (`a[i] / b[i]`): each pair ran side by side, so noise cancels. */
export const pairedRatio = (a: readonly number[], b: readonly number[]): number => {
  if (!a.length || a.length !== b.length)
    throw new Error(`paired samples differ in length: ${a.length}/${b.length}`);
  return median(a.map((x, i) => x / b[i]!));
};
