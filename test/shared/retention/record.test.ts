import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../shared/model.js';
import { retentionRecord } from '../../../shared/retention/record.js';

const I = 'i-0abc1234def567890';
const set: Snapshot = {
  kind: 'ebs',
  id: `steward-${I}-202611010300-sched`,
  arn: 'arn:aws:ec2:eu-west-1:111122223333:snapshot/snap-01',
  region: 'eu-west-1',
  sourceId: I,
  createdAt: '2026-11-01T03:01:00.000Z',
  status: 'available',
  type: 'manual',
  tags: { 'steward:managed': 'true' },
};
const key = `steward/mongo/${I}/${set.id}.dump`;
const dump: Snapshot = {
  ...set,
  id: `s3://dumps/${key}`,
  arn: `arn:aws:s3:::dumps/${key}`,
  object: { bucket: 'dumps', key },
};

describe('retentionRecord', () => {
  it('marks a deleted dump object as a dump, so the evidence never counts it as a snapshot set', () => {
    // Act
    const r = retentionRecord({
      at: '2026-11-20T04:30:00.000Z',
      deleted: [
        { snapshot: set, status: 'deleted' },
        { snapshot: dump, status: 'deleted' },
      ],
      verdicts: [],
      deferred: 0,
    });
    // Assert
    expect(r!.entries.map((e) => [e.id, e.kind, e.dump])).toEqual([
      [set.id, 'ebs', undefined],
      [dump.id, 'ebs', true],
    ]);
  });
});
