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
});
