import { describe, expect, it } from 'vitest';
import { dynamoAlertLedger } from '../../../shared/aws/alert-ledger.js';
import { memoryAlertLedger } from '../../../shared/cost/memory-ledger.js';
import { type AlertLedger, STALE_CLAIM_SECONDS } from '../../../shared/cost/ports.js';
import { motoStateTables } from '../../support/state-table.js';

// A file of its own: the adapter's unit tests mock DynamoDBDocumentClient for the whole file.
const NOW = new Date('2026-11-23T07:00:00Z');
const T = NOW.getTime() / 1000;
const KEY = 'cost-threshold#2026-11#usd-2000';

/**
 * What every AlertLedger must do: the DynamoDB adapter (against moto's DynamoDB, with the state table's
 * outbox index) and the in-memory ledger the tests and the CLI use both run it.
 */
const alertLedgerContract = (name: string, make: (now: () => Date) => Promise<AlertLedger>) =>
  describe(`${name} (AlertLedger contract)`, () => {
    const at = (s: number) => () => new Date(NOW.getTime() + s * 1000);

    it('lets exactly one of two concurrent claims win', async () => {
      const l = await make(at(0));
      const results = await Promise.all([l.claim(KEY, 2, 60, 'a'), l.claim(KEY, 2, 60, 'b')]);
      expect(results.sort()).toEqual([false, true]);
    });

    it('escalates to a higher level once, never back down', async () => {
      const l = await make(at(0));
      expect(await l.claim(KEY, 2, 60, 'warning')).toBe(true);
      await l.confirm(KEY);
      expect(await l.claim(KEY, 3, 60, 'critical')).toBe(true);
      expect(await l.claim(KEY, 3, 60, 'critical')).toBe(false);
      expect(await l.claim(KEY, 2, 60, 'warning')).toBe(false);
    });

    it('takes over a pending claim only once it is stale (the claimer died before sending)', async () => {
      let clock = 0;
      const l = await make(() => new Date(NOW.getTime() + clock * 1000));
      await l.claim(KEY, 2, 60, 'died');
      clock = 60;
      expect(await l.claim(KEY, 2, 60, 'too early')).toBe(false);
      clock = STALE_CLAIM_SECONDS + 1;
      expect(await l.claim(KEY, 2, 60, 'takes over')).toBe(true);
    });

    it('a released key can be claimed again; a confirmed one cannot', async () => {
      const l = await make(at(0));
      await l.claim(KEY, 2, 60, 'x');
      await l.release(KEY);
      expect(await l.held([KEY])).toEqual(new Set());
      expect(await l.claim(KEY, 2, 60, 'x')).toBe(true);
      await l.confirm(KEY);
      expect(await l.claim(KEY, 2, 60, 'x')).toBe(false);
      expect(await l.held([KEY, 'other'])).toEqual(new Set([KEY]));
    });

    it('lists what is owed: failed publishes at once, pending claims once stale, never what was confirmed', async () => {
      // Prepare
      let clock = 0;
      const l = await make(() => new Date(NOW.getTime() + clock * 1000));
      await l.claim('cost-spike#2026-11-22#Amazon Bedrock', 2, 600, 'Bedrock $95.00 on 2026-11-22');
      await l.claim('cost-threshold#2026-11#usd-2000', 2, 600, 'crossed $2,000');
      await l.release('cost-threshold#2026-11#usd-2000');
      await l.claim('cost-threshold#2026-11#usd-2500', 3, 600, 'crossed $2,500');
      await l.confirm('cost-threshold#2026-11#usd-2500');

      // Act
      const now = await l.unsent();
      clock = STALE_CLAIM_SECONDS + 1;
      const later = await l.unsent();

      // Assert
      expect(now).toEqual([
        {
          key: 'cost-threshold#2026-11#usd-2000',
          level: 2,
          detail: 'crossed $2,000',
          claimedAt: T,
          status: 'failed',
        },
      ]);
      expect(later.map((u) => [u.key, u.status, u.detail]).sort()).toEqual([
        ['cost-spike#2026-11-22#Amazon Bedrock', 'pending', 'Bedrock $95.00 on 2026-11-22'],
        ['cost-threshold#2026-11#usd-2000', 'failed', 'crossed $2,000'],
      ]);
    });
  });

alertLedgerContract('memoryAlertLedger', async (now) => memoryAlertLedger(now));

describe('dynamoAlertLedger against an emulated DynamoDB', () => {
  const tables = motoStateTables();
  alertLedgerContract('dynamoAlertLedger', async (now) => {
    const { doc, name } = await tables.table();
    return dynamoAlertLedger(doc, name, now);
  });
});
