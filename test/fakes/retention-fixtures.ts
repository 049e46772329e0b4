import inventoryJson from '../../events/inventory/snapshots.json' with { type: 'json' };
import dryRunEvent from '../../events/retention/dry-run.json' with { type: 'json' };
import scheduledEvent from '../../events/retention/scheduled.json' with { type: 'json' };
import { parseConfig, type StewardConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import type { Snapshot } from '../../shared/model.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { parseInventory } from '../../shared/retention/inventory.js';
import { memoryDeletionBudget } from '../../shared/retention/memory-budget.js';
import type { DeletionBudget } from '../../shared/retention/ports.js';
import { fakeSnapshotStore } from './snapshot-store.js';

/** The `now` of the sample inventory: the scheduled run of 2026-11-23. */
export const NOW = new Date('2026-11-23T04:30:00Z');

/** Windows small enough that the sample inventory has expiries in both regions. */
export const retentionTestConfig = (overrides: Partial<StewardConfigInput> = {}): StewardConfig =>
  parseConfig(
    {
      stage: 'staging',
      region: 'eu-west-1',
      backup: {
        policies: {
          daily: { retention: 'standard', copyToDr: true },
          cache: { kinds: ['elasticache'], retention: 'cache' },
        },
      },
      retention: {
        deletions: { floor: 50 },
        policies: {
          standard: { daily: 7, weekly: 4, monthly: 3, yearly: 1, keepAtLeast: 3 },
          cache: { daily: 7, keepAtLeast: 3 },
        },
      },
      dr: { region: 'us-west-2', kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr' },
      ...overrides,
    },
    'test',
  );

/** events/inventory/snapshots.json, validated, as fresh objects. */
export const sampleInventory = (): Snapshot[] =>
  parseInventory(structuredClone(inventoryJson), 'events/inventory/snapshots.json');

/** Fresh copies of the sample retention events. */
export const retentionEvents = () => ({
  scheduled: structuredClone(scheduledEvent) as Record<string, unknown>,
  dryRun: structuredClone(dryRunEvent) as Record<string, unknown>,
});

/** Retention deps over in-memory stores for eu-west-1 and us-west-2, seeded with the sample inventory. */
export const fakeRetentionDeps = (
  opts: { dryRun?: boolean; config?: StewardConfig; inventory?: Snapshot[]; budget?: DeletionBudget } = {},
) => {
  const inventory = opts.inventory ?? sampleInventory();
  const primary = fakeSnapshotStore('eu-west-1', inventory);
  const dr = fakeSnapshotStore('us-west-2', inventory);
  const notifier = memoryNotifier();
  const budget = opts.budget ?? memoryDeletionBudget();
  return {
    primary,
    dr,
    notifier,
    budget,
    deps: {
      budget,
      config: opts.config ?? retentionTestConfig(),
      dryRun: opts.dryRun ?? false,
      notifier,
      now: () => NOW,
      stores: [primary, dr],
    },
  };
};
