import { type AlertLedger, STALE_CLAIM_SECONDS, type UnsentAlert } from './ports.js';

interface Entry {
  level: number;
  status: 'pending' | 'failed' | 'sent';
  claimedAt: number;
  detail: string;
}

/** In-memory AlertLedger with the DynamoDB ledger's semantics (tests, the CLI without a deployed table, the bench). */
export const memoryAlertLedger = (
  now: () => Date = () => new Date(),
): AlertLedger & { items: Map<string, Entry> } => {
  const items = new Map<string, Entry>();
  const seconds = () => Math.floor(now().getTime() / 1000);
  const stale = (e: Entry) => e.status === 'pending' && e.claimedAt < seconds() - STALE_CLAIM_SECONDS;
  return {
    items,
    // Synchronous check-and-set: as atomic as DynamoDB's conditional write.
    claim: async (key, level, _ttl, detail) => {
      const cur = items.get(key);
      if (cur && cur.level >= level && cur.status !== 'failed' && !stale(cur)) return false;
      items.set(key, { level, status: 'pending', claimedAt: seconds(), detail });
      return true;
    },
    confirm: async (key) => {
      const cur = items.get(key);
      if (cur) cur.status = 'sent';
    },
    release: async (key) => {
      const cur = items.get(key);
      if (cur) cur.status = 'failed';
    },
    held: async (keys) => new Set(keys.filter((k) => items.get(k) && items.get(k)!.status !== 'failed')),
    unsent: async () =>
      [...items.entries()]
        .filter(([, e]) => e.status === 'failed' || stale(e))
        .map(([key, e]): UnsentAlert => ({
          key,
          level: e.level,
          detail: e.detail,
          claimedAt: e.claimedAt,
          status: e.status === 'failed' ? 'failed' : 'pending',
        })),
  };
};
