import { describe, expect, it } from 'vitest';
import copySnapshot from '../../../events/ebs/aws-copy-snapshot.json' with { type: 'json' };
import createSnapshot from '../../../events/ebs/aws-create-snapshot.json' with { type: 'json' };
import createSnapshots from '../../../events/ebs/aws-create-snapshots.json' with { type: 'json' };
import failed from '../../../events/ebs/aws-create-snapshots-failed.json' with { type: 'json' };
import { parseBackupRequest } from '../../../shared/backup/events.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { EventShapeError } from '../../../shared/errors.js';

// EBS snapshot events (transcribed from the EBS User Guide, events/README.md) into the backup function's one
// request: a targeted copy reconcile of the set a succeeded snapshot belongs to, or ignored with the reason.
const { backup } = parseConfig(
  { stage: 'test', region: 'us-east-1', backup: { policies: { daily: { kinds: ['ebs'] } } } },
  'test',
);
const parse = (e: unknown) => parseBackupRequest(e, backup);

describe('EBS snapshot events', () => {
  it.each([
    ['createSnapshots (a multi-volume set)', createSnapshots, 'createSnapshots', 'snap-01234567'],
    ['createSnapshot (one volume)', createSnapshot, 'createSnapshot', 'snap-01234567'],
    ['copySnapshot (the copy, in its region)', copySnapshot, 'copySnapshot', 'snap-01234567'],
  ])('%s becomes a copy reconcile of its set, in the envelope’s region', (_name, event, eventId, id) => {
    expect(parse(structuredClone(event))).toEqual({
      action: 'reconcile-copies',
      dryRun: false,
      trigger: {
        eventId,
        kind: 'ebs',
        id,
        region: 'us-east-1',
        snapshot: expect.stringMatching(/snapshot\/snap-/),
      },
    });
  });

  it('ignores a failed set, and snapshot events that are not copies to make, saying why', () => {
    const shared = structuredClone(createSnapshot);
    shared.detail.event = 'shareSnapshot';
    expect(parse(structuredClone(failed))).toMatchObject({
      action: 'ignored',
      reason: expect.stringContaining('createSnapshots failed'),
    });
    expect(parse(shared)).toMatchObject({
      action: 'ignored',
      reason: expect.stringContaining('shareSnapshot'),
    });
  });

  it('rejects a snapshot id that is not a snapshot ARN, and an envelope without its region, naming the field', () => {
    const badId = structuredClone(createSnapshot);
    badId.detail.snapshot_id = 'snap-01234567';
    const badSet = structuredClone(createSnapshots);
    badSet.detail.snapshots[0]!.snapshot_id = 'arn:aws:ec2::us-east-1:volume/vol-01234567';
    const { region: _, ...noRegion } = structuredClone(createSnapshot);
    expect(() => parse(badId)).toThrow(EventShapeError);
    expect(() => parse(badId)).toThrow(/detail\.snapshot_id/);
    expect(() => parse(badSet)).toThrow(/detail\.snapshots\[0\]\.snapshot_id/);
    expect(() => parse(noRegion)).toThrow(/region/);
  });
});
