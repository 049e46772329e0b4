import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { dynamoScalingStore } from '../../../shared/aws/scaling-store.js';
import { cooldownKey, placedKey, seenKey } from '../../../shared/scaling/ids.js';
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
  // A spoke account-region's memory in the hub's table behaves exactly the same.
  scalingStoreContract('dynamoScalingStore of a spoke account-region', async (c) => {
    const { doc, name } = await tables.table();
    return dynamoScalingStore(doc, name, c.now, { account: '222222222222', region: 'eu-central-1' });
  });

  it("keeps two accounts' alarms of one name, and resources of one id, apart from each other and the hub's", async () => {
    // Prepare
    const { doc, name } = await tables.table();
    const now = () => new Date('2026-11-30T10:00:00Z');
    const hub = dynamoScalingStore(doc, name, now);
    const a = dynamoScalingStore(doc, name, now, { account: '222222222222', region: 'eu-west-1' });
    const b = dynamoScalingStore(doc, name, now, { account: '333333333333', region: 'eu-west-1' });
    const key = seenKey('orders-cpu-high', new Date('2026-11-30T09:59:00Z'));
    const action = {
      at: new Date('2026-11-30T09:59:00Z'),
      until: new Date('2026-11-30T10:30:00Z'),
      rule: 'orders-cpu',
      alarmName: 'orders-cpu-high',
      eventKey: key,
    };

    // Act
    const claimed = [
      await hub.claim(key, 3600, {}),
      await a.claim(key, 3600, {}),
      await b.claim(key, 3600, {}),
    ];
    const again = await a.claim(key, 3600, {});
    const resources = [
      (await hub.claimResource('rds-instance', 'orders', action)).ok,
      (await a.claimResource('rds-instance', 'orders', action)).ok,
      (await b.claimResource('rds-instance', 'orders', action)).ok,
    ];
    await a.setAlarmState('orders-cpu-high', 'ALARM', action.at, 3600);

    // Assert
    expect(claimed).toEqual([true, true, true]);
    expect(again).toBe(false);
    expect(resources).toEqual([true, true, true]);
    expect(await hub.alarmState('orders-cpu-high')).toBeUndefined();
    expect(await a.alarmState('orders-cpu-high')).toMatchObject({ state: 'ALARM' });
    expect(await b.alarmState('orders-cpu-high')).toBeUndefined();
    const item = async (pk: string) =>
      (await doc.send(new GetCommand({ TableName: name, Key: { pk } }))).Item;
    expect(await item(`scaling-222222222222/eu-west-1#cooldown#rds-instance:orders`)).toMatchObject({
      rule: 'orders-cpu',
    });
    expect(await item(placedKey(cooldownKey('rds-instance', 'orders'), undefined))).toBeDefined();
  });
});
