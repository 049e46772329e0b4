import { describe, expect, it } from 'vitest';
import { wire } from '../../../functions/backup/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';

// The backup function wires application consistency when its construct names steward's document (a
// stage whose policies configure it), and not otherwise.
const config = parseConfig(
  {
    stage: 'prod',
    region: 'eu-west-1',
    backup: {
      policies: {
        mongo: { kinds: ['ebs'], consistency: { pre: 'fsfreeze -f /data', post: 'fsfreeze -u /data' } },
      },
    },
  },
  'test',
);
const base = () => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => new Date() });

describe('backup wiring: application consistency', () => {
  it('wraps EBS sets when the environment names the consistency document', () => {
    expect(wire(base(), { CONSISTENCY_DOCUMENT: 'steward-prod-consistency' }).around).toBeTypeOf('function');
  });

  it('takes crash-consistent sets without it (a local run, a stage without consistency)', () => {
    expect(wire(base(), {}).around).toBeUndefined();
  });

  // A fleet's scheduled cycle runs the hub's own account-region as a fan-out child too (a target without a
  // role): it is the hub's account, where the Redis DR buckets are, so it exports. Every spoke stack deploys
  // the consistency document under the stage's name, so a spoke's child runs it too (consistency-fleet.test.ts
  // proves the requests).
  it("runs consistency in every fan-out child, Redis DR in the hub's own account-region only", () => {
    // Prepare
    const env = {
      CONSISTENCY_DOCUMENT: 'steward-prod-consistency',
      REDIS_EXPORT_BUCKET: 'steward-prod-redis-export-111111111111-eu-west-1',
      REDIS_DR_BUCKET: 'steward-prod-rdb-dr-111111111111-us-west-2',
    };
    const hubChild = {
      target: { index: 0, account: '111111111111', region: 'eu-west-1' },
      hubRegion: 'eu-west-1',
    };
    const spokeChild = {
      target: {
        index: 1,
        account: '222222222222',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-backup-eu-west-1',
      },
      hubRegion: 'eu-west-1',
      as: { key: 'spoke', credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 's' }) },
    };
    // Act
    const hub = wire(base(), env, hubChild);
    const spoke = wire(base(), env, spokeChild);
    // Assert
    expect([hub.around, hub.cacheDr]).toEqual([expect.any(Function), expect.anything()]);
    expect([spoke.around, spoke.cacheDr]).toEqual([expect.any(Function), undefined]);
  });
});
