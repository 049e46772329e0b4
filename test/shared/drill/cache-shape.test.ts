import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cacheRestoreShape,
  HEADROOM,
  NODE_LADDER,
  parseCacheSize,
  usableBytes,
} from '../../../shared/drill/cache-shape.js';
import { ConfigError } from '../../../shared/errors.js';

const GIB = 2 ** 30;

describe('cacheRestoreShape', () => {
  it.each([
    // [largest shard bytes, source type, chosen, why]
    [100e6, 'cache.r7g.xlarge', 'cache.t4g.micro', 'fit'],
    [0.5 * GIB, 'cache.r7g.xlarge', 'cache.t4g.small', 'fit'],
    [2 * GIB, 'cache.r7g.xlarge', 'cache.t4g.medium', 'fit'],
    [8 * GIB, 'cache.r7g.xlarge', 'cache.r7g.large', 'fit'],
    [400 * GIB, 'cache.r7g.16xlarge', 'cache.r7g.16xlarge', 'source'],
    [undefined, 'cache.m7g.large', 'cache.m7g.large', 'source'],
    // Data tiering: only r6gd restores an r6gd snapshot.
    [1e6, 'cache.r6gd.xlarge', 'cache.r6gd.xlarge', 'source'],
  ])('a %s-byte shard of %s restores onto %s (%s)', (bytes, source, want, why) => {
    const s = cacheRestoreShape('smallest', {
      shards: 1,
      sourceNodeType: source,
      ...(bytes === undefined ? {} : { largestShardBytes: bytes }),
    });
    expect(s).toMatchObject({ kind: 'redis', instanceClass: want, instanceClassFrom: why, instances: 1 });
  });

  it('takes a configured node type as it is, one node per shard', () => {
    expect(cacheRestoreShape('cache.m7g.large', { shards: 3, largestShardBytes: 1e12 })).toEqual({
      kind: 'redis',
      instanceClass: 'cache.m7g.large',
      instanceClassFrom: 'config',
      instances: 3,
    });
  });

  it('asks for a node type, naming the field, when neither size nor source type is known', () => {
    expect(() => cacheRestoreShape('smallest', { shards: 1 }, 'drill.caches.x.nodeType')).toThrow(
      ConfigError,
    );
  });

  it('always picks a type that holds the shard with headroom, and never a larger rung than needed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 280 * GIB }), (bytes) => {
        const s = cacheRestoreShape('smallest', {
          shards: 1,
          largestShardBytes: bytes,
          sourceNodeType: 'cache.r7g.16xlarge',
        });
        const i = NODE_LADDER.indexOf(s.instanceClass);
        expect(usableBytes(s.instanceClass)!).toBeGreaterThanOrEqual(bytes * HEADROOM);
        if (i > 0) expect(usableBytes(NODE_LADDER[i - 1]!)!).toBeLessThan(bytes * HEADROOM);
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseCacheSize', () => {
  it.each([
    ['10 MB', 10e6],
    ['2.5 GB', 2.5e9],
    ['0 B', 0],
    ['512kb', 512e3],
    ['lots', undefined],
    [undefined, undefined],
  ])('%s is %s bytes', (text, bytes) => expect(parseCacheSize(text)).toBe(bytes));
});
