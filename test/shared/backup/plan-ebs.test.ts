import { describe, expect, it } from 'vitest';
import {
  copyLimits,
  emptyQueue,
  observeCopies,
  planCopies,
  type QueuedCopy,
  scheduleCopies,
} from '../../../shared/backup/copy-plan.js';
import { type BackupAction, planBackups, planSnapshot } from '../../../shared/backup/plan.js';
import type { Database, EbsPart, ResourceKind, Snapshot } from '../../../shared/model.js';
import { Tag } from '../../../shared/tags.js';

const when = new Date('2026-01-15T03:00:00Z');
const opts = { quotaWarnPercent: 80 };
const withEbs = { kinds: ['rds-instance', 'ebs'] as ResourceKind[] };
const NOW = new Date('2026-01-15T06:00:00Z');

const instance = (id: string, volumes: string[], over: Partial<Database> = {}): Database => ({
  kind: 'ebs',
  id,
  arn: `arn:aws:ec2:eu-west-1:111122223333:instance/${id}`,
  region: 'eu-west-1',
  engine: 'ec2-instance',
  status: 'available',
  tags: { [Tag.backup]: 'daily' },
  ebs: { volumes },
  ...over,
});

const volume = (id: string, attachedTo?: string, over: Partial<Database> = {}): Database => ({
  ...instance(id, [id]),
  arn: `arn:aws:ec2:eu-west-1:111122223333:volume/${id}`,
  engine: 'ebs-volume',
  ebs: { volumes: [id], ...(attachedTo ? { attachedTo } : {}) },
  ...over,
});

const byId = (actions: BackupAction[], id: string) => actions.find((a) => a.db.id === id)!;

describe('planBackups over EBS', () => {
  it('takes one set per instance: deterministic id, set tags on every volume snapshot', () => {
    // Act
    const plan = planBackups([instance('i-0abc', ['vol-a', 'vol-b'])], 'daily', withEbs, [], when, opts);

    // Assert
    const a = byId(plan.actions, 'i-0abc');
    expect(a).toMatchObject({
      action: 'create',
      snapshotId: 'steward-i-0abc-202601150300-sched',
      volumes: ['vol-a', 'vol-b'],
    });
    expect(a.action === 'create' && a.tags).toMatchObject({
      [Tag.managed]: 'true',
      [Tag.policy]: 'daily',
      [Tag.source]: 'i-0abc',
      [Tag.set]: 'steward-i-0abc-202601150300-sched',
      [Tag.setSize]: '2',
    });
  });

  it('skips a volume its instance set already holds, but takes a volume of an untagged instance', () => {
    const plan = planBackups(
      [
        instance('i-0abc', ['vol-a']),
        volume('vol-a', 'i-0abc'),
        instance('i-0other', ['vol-b'], { tags: {} }),
        volume('vol-b', 'i-0other'),
      ],
      'daily',
      withEbs,
      [],
      when,
      opts,
    );
    expect(byId(plan.actions, 'vol-a')).toMatchObject({
      action: 'skip',
      reason: 'instance-covers',
      missed: false,
    });
    expect(byId(plan.actions, 'vol-b')).toMatchObject({ action: 'create', volumes: ['vol-b'] });
  });

  it.each([
    [
      'a policy without ebs',
      { kinds: ['rds-instance'] as ResourceKind[] },
      instance('i-1', ['v']),
      'kind-not-in-policy',
    ],
    ['an instance store only instance', withEbs, instance('i-1', []), 'no-volumes'],
    ['a terminating instance', withEbs, instance('i-1', ['v'], { status: 'shutting-down' }), 'not-available'],
  ])('reports %s as a missed backup', (_what, policy, db, reason) => {
    const plan = planBackups([db], 'daily', policy, [], when, opts);
    expect(plan.actions[0]).toMatchObject({ action: 'skip', reason, missed: true });
  });

  it('an ad-hoc set carries its reason and retain-until besides the set tags', () => {
    const plan = planSnapshot(
      instance('i-0abc', ['vol-a']),
      [],
      { reason: 'pre-upgrade', retainDays: 90 },
      [],
      when,
      opts,
    );
    const a = plan.actions[0]!;
    expect(a.action).toBe('create');
    expect(a.action === 'create' && a.tags).toMatchObject({
      [Tag.reason]: 'pre-upgrade',
      [Tag.retainUntil]: '2026-04-15',
      [Tag.set]: a.action === 'create' ? a.snapshotId : '',
    });
  });
});

const part = (i: number, state = 'completed'): EbsPart => ({ id: `snap-${i}`, volumeId: `vol-${i}`, state });
const set = (db: string, d: number, parts: EbsPart[], over: Partial<Snapshot> = {}): Snapshot => {
  const id = `steward-${db}-202601${String(d).padStart(2, '0')}0300-sched`;
  return {
    kind: 'ebs',
    id,
    arn: `arn:aws:ec2:eu-west-1:111122223333:snapshot-set/${id}`,
    region: 'eu-west-1',
    sourceId: db,
    createdAt: `2026-01-${String(d).padStart(2, '0')}T03:00:00.000Z`,
    status: 'available',
    type: 'manual',
    tags: { [Tag.managed]: 'true', [Tag.policy]: 'daily', [Tag.source]: db, [Tag.set]: id },
    parts,
    ...over,
  };
};

describe('DR copies of EBS sets', () => {
  it('count one copy per volume against the 20 EBS copies in flight', () => {
    // Prepare: three instances of 8 volumes each: two sets fit (16), the third would pass 20.
    const eight = Array.from({ length: 8 }, (_, i) => part(i));
    const sources = ['i-1', 'i-2', 'i-3'].map((db) => set(db, 14, eight));

    // Act
    const plan = planCopies(sources, [], 20, ['daily'], NOW);

    // Assert
    expect(plan.start.map((c) => c.source.id)).toHaveLength(2);
    expect(plan.start[0]!.parts).toHaveLength(8);
    expect(plan.deferred).toMatchObject([{ why: 'limit' }]);
  });

  it('counts the pending parts of copies in flight', () => {
    // Prepare: a DR copy with 19 parts still copying leaves room for one volume.
    const flying = set(
      'i-9',
      13,
      Array.from({ length: 19 }, (_, i) => part(i, 'pending')),
      {
        region: 'us-west-2',
        status: 'copying',
        tags: { [Tag.managed]: 'true', [Tag.policy]: 'daily', [Tag.copiedFrom]: 'x' },
      },
    );
    const plan = planCopies(
      [set('i-1', 14, [part(1), part(2)]), set('i-2', 14, [part(3)])],
      [flying],
      20,
      ['daily'],
      NOW,
    );
    expect(plan.start).toHaveLength(1);
    expect(plan.start[0]!.source.id).toContain('i-2');
  });

  it('a set larger than the whole limit starts when nothing of its kind is in flight', () => {
    const big: QueuedCopy = {
      kind: 'ebs',
      db: 'i-big',
      snapshot: { id: 's', arn: 'a' },
      missing: 1,
      weight: 30,
    };
    const s = scheduleCopies({ ...emptyQueue(), pending: [big] }, copyLimits(20), NOW);
    expect(s.start).toHaveLength(1);
  });

  it('copies again a DR set copy missing parts (incomplete), and never counts it as copied', () => {
    const source = set('i-1', 14, [part(1), part(2)]);
    const incomplete = set('i-1', 14, [part(1)], {
      region: 'us-west-2',
      status: 'incomplete',
      tags: { ...source.tags, [Tag.copiedFrom]: source.arn },
    });
    const listing = observeCopies([source], [incomplete], ['daily'], NOW);
    expect(listing.alreadyCopied).toBe(0);
    expect(listing.actions.get(source.id)?.parts).toHaveLength(2);
    expect(listing.observation.inFlight).toEqual([]);
  });
});
