import { type AlertLedger, STALE_CLAIM_SECONDS } from './ports.js';

/** In-memory AlertLedger with the DynamoDB ledger's semantics (tests, the CLI without a deployed table, the bench). */
export const memoryAlertLedger = (
  now: () => Date = () => new Date(),
): AlertLedger & { items: Map<string, { level: number; status: string; claimedAt: number }> } => {
  const items = new Map<string, { level: number; status: string; claimedAt: number }>();
  const seconds = () => Math.floor(now().getTime() / 1000);
  return {
    items,
    // Synchronous check-and-set: as atomic as DynamoDB's conditional write.
    claim: async (key, level) => {
      const t = seconds();
      const cur = items.get(key);
      if (cur && cur.level >= level && !(cur.status === 'pending' && cur.claimedAt < t - STALE_CLAIM_SECONDS))
        return false;
      items.set(key, { level, status: 'pending', claimedAt: t });
      return true;
    },
    confirm: async (key) => {
      const cur = items.get(key);
      if (cur) cur.status = 'sent';
    },
    release: async (key) => void items.delete(key),
    held: async (keys) => new Set(keys.filter((k) => items.has(k))),
  };
};
