import { describe, expect, it } from 'vitest';
import {
  type CacheDrPort,
  type CacheDrSource,
  COPY_OBJECT_MAX_BYTES,
  copyParts,
  DR_RDB_PREFIX,
  drRdbKey,
  drRdbKeyParts,
  planCacheDr,
  rdbObjectOf,
  reconcileCacheDr,
  spokeRdbPrefix,
  spokeRedisDr,
} from '../../../shared/backup/cache-dr.js';
import type { Snapshot } from '../../../shared/model.js';
import { Tag } from '../../../shared/tags.js';

const snap = (id: string, over: Partial<Snapshot> = {}): Snapshot => ({
  kind: 'elasticache',
  id,
  arn: `arn:aws:elasticache:eu-west-1:1:snapshot:${id}`,
  region: 'eu-west-1',
  sourceId: 'sessions',
  createdAt: `${id.slice(-18, -14)}-${id.slice(-14, -12)}-${id.slice(-12, -10)}T03:00:00.000Z`,
  status: 'available',
  type: 'manual',
  tags: { [Tag.managed]: 'true', [Tag.policy]: 'daily' },
  ...over,
});
const src = (id: string, shards = 1, over: Partial<Snapshot> = {}): CacheDrSource => ({
  snapshot: snap(id, over),
  shards,
  facts: { 'steward-shards': String(shards) },
});
const file = (name: string, shard = 1, size = 1000) =>
  rdbObjectOf(`${name}-${String(shard).padStart(4, '0')}.rdb`, size)!;
// A copy as keyed before keys carried the policy: still counted as in DR (by file name).
const dr = (name: string, shard = 1) =>
  rdbObjectOf(`elasticache/sessions/${name}-${String(shard).padStart(4, '0')}.rdb`)!;
const COPYING = new Set(['daily']);
const A = 'steward-sessions-202601300300-sched';
const B = 'steward-sessions-202601310300-sched';

describe('planCacheDr', () => {
  it('exports newest first, at most the cap a run, only available steward snapshots of copying policies', () => {
    const steps = planCacheDr(
      [
        src(A),
        src(B),
        src('steward-sessions-202601290300-sched'),
        src('steward-other-202601310300-sched', 1, {
          tags: { [Tag.managed]: 'true', [Tag.policy]: 'local' },
        }),
        src('steward-hand-202601310300-sched', 1, { tags: {} }),
      ],
      COPYING,
      [],
      [],
      2,
    );
    expect(steps.map((s) => [s.action, 'source' in s ? s.source.snapshot.id : ''])).toEqual([
      ['export', B],
      ['export', A],
      ['wait', 'steward-sessions-202601290300-sched'],
    ]);
  });

  it('copies every file of a finished export to DR, then cleans the export once DR holds them all', () => {
    expect(planCacheDr([src(B, 2)], COPYING, [file(B, 1), file(B, 2)], [dr(B, 1)], 5)).toEqual([
      {
        action: 'copy',
        source: src(B, 2),
        file: file(B, 2),
        drKey: `elasticache/sessions/daily/${B}-0002.rdb`,
      },
    ]);
    expect(planCacheDr([src(B, 2)], COPYING, [file(B, 1), file(B, 2)], [dr(B, 1), dr(B, 2)], 5)).toEqual([
      { action: 'clean-export', file: file(B, 1) },
      { action: 'clean-export', file: file(B, 2) },
    ]);
  });

  it('waits for an export in progress and for a snapshot not yet available; copies a file over 5 GB too', () => {
    const big = file('steward-sessions-202601290300-sched', 1, COPY_OBJECT_MAX_BYTES + 1);
    const steps = planCacheDr(
      [src(B, 2), src(A, 1, { status: 'creating' }), src('steward-sessions-202601290300-sched')],
      COPYING,
      [file(B, 1), big],
      [],
      5,
    );
    expect(steps.map((s) => (s.action === 'wait' ? s.reason : s.action))).toEqual([
      'export in progress (1/2 files)',
      'snapshot is creating',
      'copy',
    ]);
    // The adapter copies it in parts (UploadPartCopy): CopyObject stops at 5 GB.
    expect(steps[2]).toMatchObject({ action: 'copy', file: big });
  });
});

describe('reconcileCacheDr', () => {
  const port = (over: Partial<CacheDrPort> = {}): CacheDrPort & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      sources: async () => (calls.push('sources'), [src(B), src(A)]),
      source: async (name) => (
        calls.push(`source ${name}`),
        [src(B), src(A)].find((s) => s.snapshot.id === name)
      ),
      exported: async (snapshot) => (calls.push(`exported ${snapshot ?? '*'}`), [file(A)]),
      inDr: async (of) => (calls.push(`inDr ${of ? `${of.group}/${of.snapshot}` : '*'}`), []),
      export: async (s) => (calls.push(`export ${s.id}`), 'started'),
      copy: async (_s, f, k) => void calls.push(`copy ${f.key} ${k}`),
      cleanExport: async (f) => void calls.push(`clean ${f.key}`),
      ...over,
    };
  };

  it('exports and copies, one outcome each; a dry run only plans', async () => {
    const p = port();
    expect((await reconcileCacheDr(p, COPYING, true)).map((o) => o.status)).toEqual(['planned', 'planned']);
    expect(p.calls.filter((c) => /^(export|copy) /.test(c))).toEqual([]);
    const outcomes = await reconcileCacheDr(p, COPYING, false);
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'done']);
    expect(p.calls.filter((c) => /^(export|copy) /.test(c))).toEqual([
      `export ${B}`,
      `copy ${A}-0001.rdb elasticache/sessions/daily/${A}-0001.rdb`,
    ]);
  });

  it("with one snapshot (an event's), reads that snapshot and its own files only, never the estate", async () => {
    // Prepare: the export of A lies in the bucket, but the event is about B.
    const p = port({
      exported: async (snapshot) => (p.calls.push(`exported ${snapshot ?? '*'}`), snapshot ? [] : [file(A)]),
    });
    // Act
    const outcomes = await reconcileCacheDr(p, COPYING, false, 5, B);
    // Assert
    expect(p.calls).toEqual([`source ${B}`, `exported ${B}`, `inDr sessions/${B}`, `export ${B}`]);
    expect(outcomes).toEqual([
      { resource: `elasticache snapshot ${B}`, action: 'export-rdb', status: 'done' },
    ]);
  });

  it('with one snapshot that is gone or not one Redis DR copies, lists no bucket and does nothing', async () => {
    // Prepare
    const notOurs = src(B, 1, { tags: { [Tag.managed]: 'true', [Tag.policy]: 'local' } });
    const p = port({
      source: async (name) => (p.calls.push(`source ${name}`), name === B ? notOurs : undefined),
    });
    // Act
    const outcomes = [
      ...(await reconcileCacheDr(p, COPYING, false, 5, B)),
      ...(await reconcileCacheDr(p, COPYING, false, 5, 'steward-gone-202601310300-sched')),
    ];
    // Assert
    expect(outcomes).toEqual([]);
    expect(p.calls).toEqual([`source ${B}`, 'source steward-gone-202601310300-sched']);
  });

  it('a failed copy is reported and the others still run', async () => {
    const p = port({ copy: async () => Promise.reject(new Error('AccessDenied')) });
    const outcomes = await reconcileCacheDr(p, COPYING, false);
    expect(outcomes.map((o) => [o.status, o.status === 'failed' ? o.error : ''])).toEqual([
      ['done', ''],
      ['failed', 'AccessDenied'],
    ]);
  });
});

describe('rdbObjectOf', () => {
  it.each([
    [`${B}-0001.rdb`, B],
    [`elasticache/sessions/${B}-0003.rdb`, B],
    ['dump.rdb', undefined],
    [`${B}.rdb`, undefined],
    ['someone-else-202601310300-sched-0001.rdb', undefined],
  ])('%s belongs to %s', (key, want) => expect(rdbObjectOf(key)?.snapshot).toBe(want));
});

describe('copyParts', () => {
  it('covers every byte once in order, within S3 part limits (5 MiB to 5 GiB, at most 10,000 parts)', () => {
    const MIB = 1024 ** 2;
    for (const size of [5 * 1024 ** 3 + 1, 7 * 1024 ** 3, 5 * 1024 ** 4, 6 * 1024 ** 3 - 3]) {
      const parts = copyParts(size);
      expect(parts[0]!.first).toBe(0);
      expect(parts.at(-1)!.last).toBe(size - 1);
      expect(parts.length).toBeLessThanOrEqual(10_000);
      const bad = parts.filter((p, i) => {
        const bytes = p.last - p.first + 1;
        const contiguous = i === 0 || p.first === parts[i - 1]!.last + 1;
        const sized = bytes <= 5 * 1024 ** 3 && (i === parts.length - 1 || bytes >= 5 * MIB);
        return p.part !== i + 1 || !contiguous || !sized;
      });
      expect(bad).toEqual([]);
    }
  });
});

describe('Redis DR in a spoke target', () => {
  const stage = {
    stage: 'prod',
    region: 'eu-central-1',
    dr: { region: 'us-west-2' },
    backup: { policies: { daily: { copyToDr: true, kinds: ['rds-instance', 'elasticache'] } } },
  };

  it("names the target account's buckets and its region's own prefix, which is not under the hub's", () => {
    expect(spokeRedisDr(stage, '222222222222')).toEqual({
      exportBucket: 'steward-prod-rdb-export-222222222222-eu-central-1',
      drBucket: 'steward-prod-rdb-dr-222222222222-us-west-2',
      drPrefix: 'elasticache-eu-central-1/',
    });
    expect(spokeRdbPrefix('eu-central-1').startsWith(DR_RDB_PREFIX)).toBe(false);
  });

  it('keeps none in the DR region itself, or where no policy copies caches', () => {
    expect(spokeRedisDr({ ...stage, region: 'us-west-2' }, '222222222222')).toBeUndefined();
    const noCaches = { daily: { copyToDr: true, kinds: ['rds-instance'] } };
    expect(spokeRedisDr({ ...stage, backup: { policies: noCaches } }, '222222222222')).toBeUndefined();
  });

  it("copies a spoke's files under its region's prefix, and reads copies there as its own", () => {
    const prefix = spokeRdbPrefix('eu-central-1');
    const inDr = rdbObjectOf(`${prefix}sessions/${A}-0001.rdb`)!;
    expect(planCacheDr([src(B)], COPYING, [file(B)], [], 5, prefix)).toEqual([
      { action: 'copy', source: src(B), file: file(B), drKey: `${prefix}sessions/daily/${B}-0001.rdb` },
    ]);
    expect(planCacheDr([src(A)], COPYING, [file(A)], [inDr], 5, prefix)).toEqual([
      { action: 'clean-export', file: file(A) },
    ]);
  });
});

describe('drRdbKey', () => {
  it('keys a copy under its group and policy, and reads both back; a copy keyed before carries the group only', () => {
    const key = drRdbKey('sessions', `${A}-0001.rdb`, DR_RDB_PREFIX, 'daily');
    expect(key).toBe(`elasticache/sessions/daily/${A}-0001.rdb`);
    expect(drRdbKeyParts(key)).toEqual({ group: 'sessions', policy: 'daily' });
    expect(drRdbKeyParts(`elasticache/sessions/${A}-0001.rdb`)).toEqual({ group: 'sessions' });
    const spoke = spokeRdbPrefix('eu-central-1');
    expect(drRdbKeyParts(drRdbKey('sessions', `${A}-0001.rdb`, spoke, 'daily'), spoke)).toEqual({
      group: 'sessions',
      policy: 'daily',
    });
    expect(rdbObjectOf(key)?.snapshot).toBe(A);
  });
});
