import { describe } from 'vitest';
import { dynamoScalingStore } from '../../../shared/aws/scaling-store.js';
import { fakeScalingStore } from '../../fakes/scaling.js';
import { motoStateTables } from '../../support/state-table.js';
import { scalingStoreContract } from './scaling-store.contract.js';

scalingStoreContract('fakeScalingStore', async (c) => fakeScalingStore(c.now));

describe('dynamoScalingStore against an emulated DynamoDB', () => {
  // A fresh table per case: the contract's cases must not see each other's items.
  const tables = motoStateTables();
  scalingStoreContract('dynamoScalingStore', async (c) => {
    const { doc, name } = await tables.table();
    return dynamoScalingStore(doc, name, c.now);
  });
});
