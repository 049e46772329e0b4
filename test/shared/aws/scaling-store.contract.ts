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

    it("keeps a dry run's plan apart from the live cooldown: read only when asked, never shortened", async () => {
      // Prepare
      const c = clock('2026-01-15T10:00:00Z');
      const s = await make(c);
      const plan = (until: string, change = 'modify orders-db class db.r6g.large → db.r6g.xlarge') => ({
        at: new Date('2026-01-15T10:00:00Z'),
        until: new Date(until),
        rule: 'orders-db-cpu',
        alarmName: 'orders-db-cpu-high',
        change,
      });

      // Act
      await s.recordPlanned('rds-instance', 'orders-db', plan('2026-01-15T10:30:00Z'));
      await s.recordPlanned('rds-instance', 'orders-db', plan('2026-01-15T10:10:00Z', 'shorter'));
      const live = await s.memory('k', 'rds-instance', 'orders-db');
      const dry = await s.memory('k', 'rds-instance', 'orders-db', { planned: true });
      const other = await s.memory('k', 'aurora-cluster', 'orders-db', { planned: true });
      // The live claim is granted whatever the dry run planned, and does not drop the plan.
      const claimed = await s.claimResource('rds-instance', 'orders-db', {
        at: new Date('2026-01-15T09:59:00Z'),
        until: new Date('2026-01-15T10:20:00Z'),
        rule: 'orders-db-cpu',
        alarmName: 'orders-db-cpu-high',
        eventKey: 'k',
      });
      const after = await s.memory('k', 'rds-instance', 'orders-db', { planned: true });

      // Assert
      expect(live.planned).toBeUndefined();
      expect(live.cooldownUntil).toBeUndefined();
      expect(dry.planned).toEqual(plan('2026-01-15T10:30:00Z'));
      expect(other.planned).toBeUndefined();
      expect(claimed.ok).toBe(true);
      expect(after.planned?.until).toEqual(new Date('2026-01-15T10:30:00Z'));
      expect(after.cooldownUntil).toEqual(new Date('2026-01-15T10:20:00Z'));
    });

    it('claims a resource for one action at a time: the claim is the cooldown, and never moves backwards', async () => {
      // Prepare
      const c = clock('2026-01-15T10:00:00Z');
      const s = await make(c);
      const rec = (at: string, until: string, rule = 'orders-db-cpu', eventKey = `k-${rule}-${at}`) => ({
        at: new Date(at),
        until: new Date(until),
        rule,
        alarmName: `${rule}-high`,
        eventKey,
      });

      // Act
      const before = await s.memory('k', 'rds-instance', 'orders-db');
      const first = await s.claimResource(
        'rds-instance',
        'orders-db',
        rec('2026-01-15T09:59:00Z', '2026-01-15T10:30:00Z'),
      );
      const rival = await s.claimResource(
        'rds-instance',
        'orders-db',
        rec('2026-01-15T09:59:30Z', '2026-01-15T10:30:00Z', 'orders-db-connections'),
      );
      const after = await s.memory('k', 'rds-instance', 'orders-db');
      const otherKind = await s.memory('k', 'aurora-cluster', 'orders-db');
      c.set('2026-01-15T10:31:00Z');
      const older = await s.claimResource(
        'rds-instance',
        'orders-db',
        rec('2026-01-15T09:00:00Z', '2026-01-15T11:01:00Z'),
      );
      const later = await s.claimResource(
        'rds-instance',
        'orders-db',
        rec('2026-01-15T10:30:30Z', '2026-01-15T11:01:00Z'),
      );

      // Assert
      expect(before).toEqual({ seen: false });
      expect(first).toMatchObject({ ok: true, claim: { kind: 'rds-instance', id: 'orders-db' } });
      expect(rival).toEqual({
        ok: false,
        holder: {
          rule: 'orders-db-cpu',
          alarmName: 'orders-db-cpu-high',
          until: new Date('2026-01-15T10:30:00Z'),
          lastActedAt: new Date('2026-01-15T09:59:00Z'),
        },
      });
      expect(after).toEqual({
        seen: false,
        lastActedAt: new Date('2026-01-15T09:59:00Z'),
        cooldownUntil: new Date('2026-01-15T10:30:00Z'),
      });
      expect(otherKind).toEqual({ seen: false });
      expect(older.ok).toBe(false);
      expect(later).toMatchObject({
        ok: true,
        claim: { previous: { at: new Date('2026-01-15T09:59:00Z'), rule: 'orders-db-cpu' } },
      });
    });

    it("gives a failed action's claim back: the previous record returns, a later claim is never undone", async () => {
      // Prepare
      const c = clock('2026-01-15T10:00:00Z');
      const s = await make(c);
      const rec = (eventKey: string, at: string, until: string) => ({
        at: new Date(at),
        until: new Date(until),
        rule: 'orders-db-cpu',
        alarmName: 'orders-db-cpu-high',
        eventKey,
      });
      const fresh = await s.claimResource(
        'rds-instance',
        'orders-db',
        rec('e1', '2026-01-15T09:59:00Z', '2026-01-15T10:30:00Z'),
      );

      // Act: e1's action failed, so its claim goes; e2 claims; a late second release of e1 must not undo e2.
      if (!fresh.ok) throw new Error('claim refused');
      await s.releaseResource(fresh.claim);
      const free = await s.memory('k', 'rds-instance', 'orders-db');
      const e2 = await s.claimResource(
        'rds-instance',
        'orders-db',
        rec('e2', '2026-01-15T09:59:10Z', '2026-01-15T10:30:00Z'),
      );
      await s.releaseResource(fresh.claim);
      const held = await s.memory('k', 'rds-instance', 'orders-db');

      // Assert
      expect(free).toEqual({ seen: false });
      expect(e2.ok).toBe(true);
      expect(held).toMatchObject({ lastActedAt: new Date('2026-01-15T09:59:10Z') });
    });

    it('holds a claim during a cooldown a failover restarted, and grants it once that ends', async () => {
      // Prepare: a database steward never acted on fails over; a claim in flight fails after the failover.
      const c = clock('2026-01-15T10:00:00Z');
      const s = await make(c);
      const rec = (eventKey: string, at: string) => ({
        at: new Date(at),
        until: new Date(new Date(at).getTime() + 30 * 60_000),
        rule: 'orders-db-cpu',
        alarmName: 'orders-db-cpu-high',
        eventKey,
      });
      const other = await s.claimResource('rds-instance', 'other-db', rec('o1', '2026-01-15T09:59:00Z'));
      if (!other.ok) throw new Error('claim refused');

      // Act
      await s.restartCooldown(
        'rds-instance',
        'orders-db',
        new Date('2026-01-15T10:30:00Z'),
        'RDS-EVENT-0049',
      );
      await s.restartCooldown('rds-instance', 'other-db', new Date('2026-01-15T11:00:00Z'), 'RDS-EVENT-0049');
      const during = await s.claimResource('rds-instance', 'orders-db', rec('e1', '2026-01-15T10:10:00Z'));
      // other-db's action failed after the failover: giving its claim back must keep the failover's cooldown.
      await s.releaseResource(other.claim);
      const otherHeld = await s.memory('k', 'rds-instance', 'other-db');
      c.set('2026-01-15T10:31:00Z');
      const after = await s.claimResource('rds-instance', 'orders-db', rec('e2', '2026-01-15T10:30:30Z'));

      // Assert
      expect(during.ok).toBe(false);
      expect(otherHeld).toMatchObject({ cooldownUntil: new Date('2026-01-15T11:00:00Z') });
      expect(after.ok).toBe(true);
    });

    it('keeps a decision until it is announced, then forgets to repeat it', async () => {
      // Prepare
      const s = await make(clock('2026-01-15T10:00:00Z'));
      const key = 'scaling-seen#orders-db-cpu-high#2026-01-15T09:59:59.987Z';
      const decision = {
        rule: 'orders-db-cpu',
        alarmName: 'orders-db-cpu-high',
        resource: 'orders-db',
        action: 'rds.scaleUp' as const,
        mode: 'auto' as const,
        severity: 'warning' as const,
        at: '2026-01-15T09:59:59.987Z',
        decision: { verdict: 'skip' as const, reason: 'at-max' as const, detail: 'top of the ladder' },
        status: 'skipped' as const,
      };
      await s.claim(key, 3600, { rule: 'orders-db-cpu' });

      // Act
      await s.recordOutcome(key, decision);
      const told = await s.memory(key, 'rds-instance', 'orders-db');
      await s.markAnnounced(key);
      const quiet = await s.memory(key, 'rds-instance', 'orders-db');
      await s.recordOutcome('never-claimed', decision);
      const none = await s.memory('never-claimed', 'rds-instance', 'orders-db');

      // Assert
      expect(told).toEqual({ seen: true, unannounced: decision });
      expect(quiet).toEqual({ seen: true });
      expect(none).toEqual({ seen: false });
    });

    it('lets exactly one caller execute an approval, and a failed execution leaves it pending', async () => {
      // Prepare
      const s = await make(clock('2026-01-15T10:00:05Z'));
      const a = approval('0123456789ab');
      const t = (iso: string) => new Date(iso);

      // Act
      const put = [await s.putApproval(a, 7200), await s.putApproval(a, 7200)];
      const pending = await s.getApproval(a.id);
      const claims = [
        await s.claimApproval(a.id, t('2026-01-15T10:05:00Z')),
        await s.claimApproval(a.id, t('2026-01-15T10:05:01Z')),
      ];
      const executing = await s.getApproval(a.id);
      await s.releaseApproval(a.id, 'InvalidDBInstanceState');
      const released = await s.getApproval(a.id);
      const again = await s.claimApproval(a.id, t('2026-01-15T10:06:00Z'));
      await s.completeApproval(a.id, t('2026-01-15T10:06:30Z'), 'done');
      const executed = await s.getApproval(a.id);
      const afterDone = await s.claimApproval(a.id, t('2026-01-15T12:00:00Z'));

      // Assert
      expect(put).toEqual(['created', 'exists']);
      expect(pending).toEqual(a);
      expect(claims).toEqual([true, false]);
      expect(executing).toMatchObject({ status: 'executing' });
      expect(released).toEqual({ ...a, status: 'pending', lastError: 'InvalidDBInstanceState' });
      expect(again).toBe(true);
      expect(executed).toMatchObject({
        status: 'executed',
        executedAt: '2026-01-15T10:06:30.000Z',
        result: 'done',
      });
      expect(afterDone).toBe(false);
      expect(await s.getApproval('ffffffffffff')).toBeUndefined();
      expect(await s.claimApproval('ffffffffffff', new Date())).toBe(false);
    });

    it('lets a later request take over an execution whose run died (executing for 15 minutes)', async () => {
      // Prepare
      const s = await make(clock('2026-01-15T10:00:05Z'));
      const a = approval('0123456789ac');
      await s.putApproval(a, 7200);
      await s.claimApproval(a.id, new Date('2026-01-15T10:05:00Z'));

      // Act
      const early = await s.claimApproval(a.id, new Date('2026-01-15T10:10:00Z'));
      const late = await s.claimApproval(a.id, new Date('2026-01-15T10:20:01Z'));

      // Assert
      expect([early, late]).toEqual([false, true]);
    });

    it('remembers a wait on the OK period it belongs to, and forgets it with the next transition', async () => {
      // Prepare
      const s = await make(clock('2026-01-15T12:00:00Z'));
      const ok = new Date('2026-01-15T11:00:00Z');
      const wait = {
        state: 'snapshotting',
        since: new Date('2026-01-15T12:00:00Z'),
        seen: new Date('2026-01-15T12:15:00Z'),
      };
      await s.setAlarmState('sessions-redis-cpu-high', 'OK', ok, 86_400);

      // Act
      await s.noteWait('sessions-redis-cpu-high', ok, wait);
      const noted = await s.alarmState('sessions-redis-cpu-high');
      // A check that read an older OK period writes nothing.
      await s.noteWait('sessions-redis-cpu-high', new Date('2026-01-15T10:00:00Z'), { ...wait, state: 'x' });
      const kept = await s.alarmState('sessions-redis-cpu-high');
      // An alarm steward has no state for gets none.
      await s.noteWait('orders-db-cpu-high', ok, wait);
      const none = await s.alarmState('orders-db-cpu-high');
      await s.setAlarmState('sessions-redis-cpu-high', 'ALARM', new Date('2026-01-15T12:20:00Z'), 86_400);
      const after = await s.alarmState('sessions-redis-cpu-high');

      // Assert
      expect(noted).toEqual({ state: 'OK', since: ok, wait });
      expect(kept).toEqual(noted);
      expect(none).toBeUndefined();
      expect(after).toEqual({ state: 'ALARM', since: new Date('2026-01-15T12:20:00Z') });
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
