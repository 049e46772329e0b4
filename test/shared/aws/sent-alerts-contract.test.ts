import { describe, expect, it } from 'vitest';
import { dynamoSentAlerts } from '../../../shared/aws/drill-stores.js';
import type { SentAlerts } from '../../../shared/drill/ports.js';
import { fakeSentAlerts } from '../../fakes/drill-ports.js';
import { motoStateTables } from '../../support/state-table.js';

const EXECUTION = 'arn:aws:states:eu-west-1:111122223333:execution:steward-prod-drill:monthly-orders-db';

/**
 * What every SentAlerts must do: the DynamoDB store (over moto's DynamoDB) and the in-memory fake the drill
 * tests use both run it, so the fake cannot drift from the real semantics.
 */
const sentAlertsContract = (name: string, make: (now: () => Date) => Promise<SentAlerts>) =>
  describe(`${name} (SentAlerts contract)`, () => {
    it('says an alert was sent only once it is recorded, and keeps executions apart', async () => {
      // Prepare
      const s = await make(() => new Date('2026-02-01T05:00:00Z'));

      // Act
      const before = await s.sent(EXECUTION);
      await s.record(EXECUTION, 3600);

      // Assert
      expect(before).toBe(false);
      expect(await s.sent(EXECUTION)).toBe(true);
      expect(await s.sent(`${EXECUTION}-2`)).toBe(false);
    });

    it('forgets a record past its time to live, even before the table sweeps it', async () => {
      // Prepare
      let t = new Date('2026-02-01T05:00:00Z');
      const s = await make(() => t);
      await s.record(EXECUTION, 60);

      // Act
      t = new Date('2026-02-01T05:01:01Z');

      // Assert
      expect(await s.sent(EXECUTION)).toBe(false);
    });
  });

sentAlertsContract('fakeSentAlerts', async (now) => fakeSentAlerts(now));

describe('dynamoSentAlerts against an emulated DynamoDB', () => {
  const tables = motoStateTables();
  sentAlertsContract('dynamoSentAlerts', async (now) => {
    const { doc, name } = await tables.table();
    return dynamoSentAlerts(doc, name, now);
  });
});
