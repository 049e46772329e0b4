import type { Snapshot } from '../model.js';
import { Tag } from '../tags.js';

/**
 * The region a DR snapshot was copied from: RDS's SourceRegion, else the region of steward's copied-from ARN.
 * Undefined: not a cross-region copy as far as anything says (a snapshot taken in that region).
 */
export const originRegion = (s: Pick<Snapshot, 'sourceRegion' | 'tags'>): string | undefined =>
  s.sourceRegion ?? s.tags[Tag.copiedFrom]?.split(':')[3];

/**
 * True for a DR-region snapshot that can be a copy from `region`: copied from it, or of no known origin. A copy
 * from another source region of the account is never one, even of a database with the same id (one account may
 * run `orders` in two regions; each region's DR state is its own copies').
 */
export const mayBeCopyFrom = (s: Pick<Snapshot, 'sourceRegion' | 'tags'>, region: string): boolean => {
  const from = originRegion(s);
  return from === undefined || from === region;
};

/**
 * True when DR snapshot `copy` is the copy of `source`: its copied-from names the source's ARN, or (a copy from
 * before that tag, or made by hand) it has the source's id and no origin other than the source's region.
 */
export const isCopyOf = (
  copy: Pick<Snapshot, 'kind' | 'id' | 'sourceRegion' | 'tags'>,
  source: Pick<Snapshot, 'kind' | 'id' | 'arn' | 'region'>,
): boolean => {
  if (copy.kind !== source.kind) return false;
  const from = copy.tags[Tag.copiedFrom];
  if (from !== undefined) return from === source.arn;
  return copy.id === source.id && mayBeCopyFrom(copy, source.region);
};
