import { describe, expect, it } from 'vitest';
import type { Approval } from '../../../shared/scaling/model.js';
import type { ScalingStore } from '../../../shared/scaling/ports.js';

/** A clock the contract moves by hand. */
export interface Clock {
  now: () => Date;
  set: (iso: string) => void;
}

export const clock = (iso: string): Clock => {
  let t = new Date(iso);
  return { now: () => t, set: (v) => (t = new Date(v)) };
};

const approval = (id: string): Approval => ({
  id,
  status: 'pending',
  rule: 'orders-db-failover',
  alarmName: 'orders-db-unhealthy',
  at: '2026-01-15T10:00:00.000Z',
  direction: 'out',
  change: { type: 'rds.rebootWithFailover', dbInstanceId: 'orders-db' },
  createdAt: '2026-01-15T10:00:05.000Z',
  expiresAt: '2026-01-16T10:00:05.000Z',
});

/**
 * What every ScalingStore must do: the DynamoDB adapter (against an emulated endpoint) and the in-memory
 * fake the handler tests use both run it, so the fake cannot drift from the real semantics.
 */
export const scalingStoreContract = (name: string, make: (c: Clock) => Promise<ScalingStore>) =>
  describe(`${name} (ScalingStore contract)`, () => {
    it('claims an event key exactly once, until released or expired', async () => {
      // Prepare
      const c = clock('2026-01-15T10:00:00Z');
      const s = await make(c);
      const key = 'scaling-seen#orders-db-cpu-high#2026-01-15T09:59:59.987Z';

      // Act
      const first = await s.claim(key, 3600, { rule: 'orders-db-cpu' });
      const second = await s.claim(key, 3600, { rule: 'orders-db-cpu' });
      const seen = await s.memory(key, 'rds-instance', 'orders-db');
      await s.release(key);
      const afterRelease = await s.claim(key, 3600, { rule: 'orders-db-cpu' });
      c.set('2026-01-15T11:00:01Z');
      const afterExpiry = await s.claim(key, 3600, { rule: 'orders-db-cpu' });

      // Assert
      expect([first, second, seen.seen, afterRelease, afterExpiry]).toEqual([true, false, true, true, true]);
    });

    it('remembers the acted-on transition and cooldown per resource, never moving backwards', async () => {
      // Prepare
      const s = await make(clock('2026-01-15T10:00:00Z'));
      const rec = (at: string, until: string) => ({
        at: new Date(at),
        until: new Date(until),
        rule: 'orders-db-cpu',
        alarmName: 'orders-db-cpu-high',
      });

      // Act
      const before = await s.memory('k', 'rds-instance', 'orders-db');
      await s.recordAction('rds-instance', 'orders-db', rec('2026-01-15T09:59:00Z', '2026-01-15T10:30:00Z'));
      await s.recordAction('rds-instance', 'orders-db', rec('2026-01-15T09:00:00Z', '2026-01-15T09:30:00Z'));
      const after = await s.memory('k', 'rds-instance', 'orders-db');
      const otherKind = await s.memory('k', 'aurora-cluster', 'orders-db');

      // Assert
      expect(before).toEqual({ seen: false });
      expect(after).toEqual({
        seen: false,
        lastActedAt: new Date('2026-01-15T09:59:00Z'),
        cooldownUntil: new Date('2026-01-15T10:30:00Z'),
      });
      expect(otherKind).toEqual({ seen: false });
    });

    it('stores an approval once and lets exactly one caller execute it', async () => {
      // Prepare
      const s = await make(clock('2026-01-15T10:00:05Z'));
      const a = approval('0123456789ab');

      // Act
      const put = [await s.putApproval(a, 7200), await s.putApproval(a, 7200)];
      const pending = await s.getApproval(a.id);
      const marks = [
        await s.markExecuted(a.id, new Date('2026-01-15T10:05:00Z')),
        await s.markExecuted(a.id, new Date('2026-01-15T10:05:01Z')),
      ];
      await s.recordResult(a.id, 'done');
      const executed = await s.getApproval(a.id);

      // Assert
      expect(put).toEqual(['created', 'exists']);
      expect(pending).toEqual(a);
      expect(marks).toEqual([true, false]);
      expect(executed).toEqual({
        ...a,
        status: 'executed',
        executedAt: '2026-01-15T10:05:00.000Z',
        result: 'done',
      });
      expect(await s.getApproval('ffffffffffff')).toBeUndefined();
      expect(await s.markExecuted('ffffffffffff', new Date())).toBe(false);
    });

    it('keeps the newest alarm state: an older transition never overwrites a newer one', async () => {
      // Prepare
      const s = await make(clock('2026-01-15T12:00:00Z'));

      // Act
      const none = await s.alarmState('orders-db-cpu-high');
      await s.setAlarmState('orders-db-cpu-high', 'OK', new Date('2026-01-15T11:00:00Z'), 86_400);
      await s.setAlarmState('orders-db-cpu-high', 'ALARM', new Date('2026-01-15T10:00:00Z'), 86_400);
      const kept = await s.alarmState('orders-db-cpu-high');
      await s.setAlarmState('orders-db-cpu-high', 'ALARM', new Date('2026-01-15T11:30:00Z'), 86_400);
      const newer = await s.alarmState('orders-db-cpu-high');

      // Assert
      expect(none).toBeUndefined();
      expect(kept).toEqual({ state: 'OK', since: new Date('2026-01-15T11:00:00Z') });
      expect(newer).toEqual({ state: 'ALARM', since: new Date('2026-01-15T11:30:00Z') });
    });
  });
