import { describe, expect, it } from 'vitest';
import { dynamoDeletionBudget } from '../../../shared/aws/retention-budget.js';
import { memoryDeletionBudget } from '../../../shared/retention/memory-budget.js';
import type { DeletionBudget } from '../../../shared/retention/ports.js';
import { motoStateTables, oneAtATime } from '../../support/state-table.js';

const DAY = '2026-11-23';

/** What every DeletionBudget must do: the DynamoDB adapter (over moto) and the in-memory one run it. */
const deletionBudgetContract = (
  name: string,
  make: () => Promise<DeletionBudget>,
  /** Moto's server does not serialise conditional writes as DynamoDB does: against it, one call at a time. */
  together: <T>(calls: (() => Promise<T>)[]) => Promise<T[]> = (calls) => Promise.all(calls.map((c) => c())),
) =>
  describe(`${name} (DeletionBudget contract)`, () => {
    it('grants what is asked while the day has room, then only the rest, then nothing', async () => {
      // Prepare
      const b = await make();
      // Act
      const grants = [
        await b.reserve(DAY, 30, 50),
        await b.reserve(DAY, 30, 50),
        await b.reserve(DAY, 30, 50),
      ];
      // Assert
      expect(grants).toEqual([30, 20, 0]);
    });

    it('keeps days apart', async () => {
      // Prepare
      const b = await make();
      await b.reserve(DAY, 50, 50);
      // Act
      const next = await b.reserve('2026-11-24', 10, 50);
      // Assert
      expect(next).toBe(10);
    });

    it('takes refunds back, and refuses one larger than what was reserved', async () => {
      // Prepare
      const b = await make();
      await b.reserve(DAY, 10, 10);
      // Act
      await b.refund(DAY, 4);
      const again = await b.reserve(DAY, 10, 10);
      await b.refund(DAY, 99);
      await b.refund('2026-01-01', 3);
      const after = await b.reserve(DAY, 10, 10);
      // Assert
      expect(again).toBe(4);
      expect(after).toBe(0);
    });

    it('never grants more than the limit to concurrent runs together', async () => {
      // Prepare
      const b = await make();
      // Act: six overlapping runs (retries, a manual invoke) each want 4 of a budget of 10.
      const grants = await together(Array.from({ length: 6 }, () => () => b.reserve(DAY, 4, 10)));
      // Assert
      expect(grants.reduce((a, g) => a + g, 0)).toBe(10);
    });
  });

deletionBudgetContract('memoryDeletionBudget', async () => memoryDeletionBudget());

describe('dynamoDeletionBudget against an emulated DynamoDB', () => {
  const tables = motoStateTables();
  deletionBudgetContract(
    'dynamoDeletionBudget',
    async () => {
      const { doc, name } = await tables.table();
      return dynamoDeletionBudget(doc, name);
    },
    oneAtATime,
  );
});
