import { AwsCallError } from '../errors.js';

/** Page size for RDS Describe* calls: the API's maximum (MaxRecords 20–100). */
export const PAGE = { pageSize: 100 } as const;

/**
 * Every item of every page an SDK paginator yields, as plain data. A failure on any page becomes one
 * AwsCallError naming the operation and what was being listed.
 */
export const collectPages = async <P, I, T>(
  pages: AsyncIterable<P>,
  items: (page: P) => readonly I[] | undefined,
  toPlain: (item: I) => T | undefined,
  operation: string,
  resource: string,
): Promise<T[]> => {
  const out: T[] = [];
  try {
    for await (const page of pages) {
      for (const item of items(page) ?? []) {
        const v = toPlain(item);
        if (v !== undefined) out.push(v);
      }
    }
  } catch (e) {
    throw new AwsCallError(operation, resource, e);
  }
  return out;
};
