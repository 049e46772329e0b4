import { describe, expect, it } from 'vitest';
import { dynamoTokenStore } from '../../../shared/aws/drill-stores.js';
import type { TokenStore } from '../../../shared/drill/ports.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { fakeTokenStore } from '../../fakes/drill-ports.js';
import { motoStateTables } from '../../support/state-table.js';

const state = (drillId: string) =>
  ({
    drillId,
    database: 'orders-db',
    target: { kind: 'rds-instance', id: `steward-drill-${drillId}` },
  }) as DrillState;

/**
 * What every TokenStore must do: the DynamoDB store (over moto's DynamoDB) and the in-memory fake the drill
 * tests use both run it, so the fake cannot drift from the real semantics.
 */
const tokenStoreContract = (name: string, make: (now: () => Date) => Promise<TokenStore>) =>
  describe(`${name} (TokenStore contract)`, () => {
    it('parks a token with its state and gives it out exactly once', async () => {
      // Prepare
      const s = await make(() => new Date('2026-02-01T05:00:00Z'));
      await s.put('steward-drill-a', 'token-a', 3600, state('a'));

      // Act
      const first = await s.take('steward-drill-a');
      const second = await s.take('steward-drill-a');

      // Assert
      expect(first).toEqual({ token: 'token-a', state: state('a') });
      expect(second).toBeUndefined();
    });

    it('replaces a parked token (the wait state re-parks after a poll) and keeps targets apart', async () => {
      // Prepare
      const s = await make(() => new Date('2026-02-01T05:00:00Z'));
      await s.put('steward-drill-a', 'old', 3600, state('a'));
      await s.put('steward-drill-a', 'new', 3600, state('a2'));
      await s.put('steward-drill-b', 'token-b', 3600, state('b'));

      // Act
      const a = await s.take('steward-drill-a');
      const b = await s.take('steward-drill-b');

      // Assert
      expect(a).toEqual({ token: 'new', state: state('a2') });
      expect(b).toEqual({ token: 'token-b', state: state('b') });
    });

    it('never gives out an expired token, even before the table sweeps it', async () => {
      // Prepare
      let t = new Date('2026-02-01T05:00:00Z');
      const s = await make(() => t);
      await s.put('steward-drill-a', 'token-a', 60, state('a'));

      // Act
      t = new Date('2026-02-01T05:01:01Z');
      const late = await s.take('steward-drill-a');

      // Assert
      expect(late).toBeUndefined();
    });

    it('says an execution waits while its token is parked and live, and not once taken or expired', async () => {
      // Prepare
      let t = new Date('2026-02-01T05:00:00Z');
      const s = await make(() => t);
      await s.put('steward-drill-a', 'token-a', 60, state('a'));
      await s.put('steward-drill-b', 'token-b', 3600, state('b'));

      // Act
      const parked = await s.waiting('steward-drill-a');
      const never = await s.waiting('steward-drill-c');
      await s.take('steward-drill-b');
      const taken = await s.waiting('steward-drill-b');
      t = new Date('2026-02-01T05:01:01Z');
      const expired = await s.waiting('steward-drill-a');

      // Assert
      expect([parked, never, taken, expired]).toEqual([true, false, false, false]);
    });

    it('of two events racing for one token, exactly one gets it', async () => {
      // Prepare
      const s = await make(() => new Date('2026-02-01T05:00:00Z'));
      await s.put('steward-drill-a', 'token-a', 3600, state('a'));

      // Act
      const got = await Promise.all([s.take('steward-drill-a'), s.take('steward-drill-a')]);

      // Assert
      expect(got.filter((g) => g !== undefined)).toEqual([{ token: 'token-a', state: state('a') }]);
    });
  });

tokenStoreContract('fakeTokenStore', async (now) => fakeTokenStore(now));

describe('dynamoTokenStore against an emulated DynamoDB', () => {
  const tables = motoStateTables();
  tokenStoreContract('dynamoTokenStore', async (now) => {
    const { doc, name } = await tables.table();
    return dynamoTokenStore(doc, name, now);
  });
});
