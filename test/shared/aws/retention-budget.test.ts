import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoDeletionBudget } from '../../../shared/aws/retention-budget.js';
import { memoryDeletionBudget } from '../../../shared/retention/memory-budget.js';
import type { DeletionBudget } from '../../../shared/retention/ports.js';
import { motoStateTables } from '../../support/state-table.js';

const DAY = '2026-11-23';

/** What every DeletionBudget must do: the DynamoDB adapter (over moto) and the in-memory one run it. */
const deletionBudgetContract = (name: string, make: () => Promise<DeletionBudget>) =>
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
      const grants = await Promise.all(Array.from({ length: 6 }, () => b.reserve(DAY, 4, 10)));
      // Assert
      expect(grants.reduce((a, g) => a + g, 0)).toBe(10);
    });
  });

deletionBudgetContract('memoryDeletionBudget', async () => memoryDeletionBudget());

describe('dynamoDeletionBudget against an emulated DynamoDB', () => {
  const tables = motoStateTables();
  deletionBudgetContract('dynamoDeletionBudget', async () => {
    const { doc, name } = await tables.table();
    return dynamoDeletionBudget(doc, name);
  });

  it('would catch a reservation whose read and write are not one conditional step', async () => {
    // Prepare: a budget that reads `used` and writes `used + granted` without a condition.
    const { doc, name } = await tables.table();
    const racy: DeletionBudget = {
      reserve: async (day, wanted, limit) => {
        const got = await doc.send(
          new GetCommand({ TableName: name, Key: { pk: day }, ConsistentRead: true }),
        );
        const used = Number(got.Item?.used ?? 0);
        const granted = Math.max(0, Math.min(wanted, limit - used));
        await doc.send(new PutCommand({ TableName: name, Item: { pk: day, used: used + granted } }));
        return granted;
      },
      refund: async () => undefined,
    };
    // Act: the same six overlapping runs as the contract, through the same emulated table.
    const grants = await Promise.all(Array.from({ length: 6 }, () => racy.reserve(DAY, 4, 10)));
    // Assert: every run read before any wrote, so the contract's sum (10) would fail.
    expect(grants.reduce((a, g) => a + g, 0)).toBeGreaterThan(10);
  });
});
