import { type PublishCommandInput, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { snsNotifier } from '../../../shared/aws/sns-notifier.js';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import type { Database, Snapshot } from '../../../shared/model.js';
import { type BackupDeps, runBackup } from '../../../shared/backup/service.js';
import { MESSAGE_BUDGET, publishedBytes, SNS_MESSAGE_LIMIT } from '../../../shared/notify/budget.js';
import { memoryRunReports } from '../../../shared/notify/run-report.js';
import { fakeBackupPort, fakeCopyPort, fakeSnapshotArn } from '../../fakes/backup-ports.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';

/*
 * A run's notification is a bounded summary whatever the estate: measured on the UTF-8 bytes of what is
 * actually published to SNS (subject, message and attributes), against a budget well under SNS's 256 KiB.
 * Before summaries, a scheduled backup grew ~600 bytes per database (past the limit at ~430 databases)
 * and a reconcile ~250 bytes per deferred copy (past it at ~740).
 */

const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const NOW = new Date('2026-01-15T03:00:20Z');
const TOPICS = {
  critical: 'arn:aws:sns:eu-west-1:111122223333:steward-prod-critical',
  warning: 'arn:aws:sns:eu-west-1:111122223333:steward-prod-warning',
  info: 'arn:aws:sns:eu-west-1:111122223333:steward-prod-info',
};

const configInput = {
  stage: 'prod',
  region: PRIMARY,
  backup: { policies: { daily: { retention: 'standard', copyToDr: true } } },
  retention: { policies: { standard: {} } },
  dr: { region: DR, kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr' },
} satisfies StewardConfigInput;

/** A realistic id length: team, service, role and a number (RDS allows 63 characters). */
const dbId = (i: number) => `payments-ledger-primary-${String(i).padStart(4, '0')}`;

const estate = (n: number): Database[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: 'rds-instance',
    id: dbId(i),
    arn: `arn:aws:rds:${PRIMARY}:111122223333:db:${dbId(i)}`,
    region: PRIMARY,
    engine: 'postgres',
    status: 'available',
    encrypted: true,
    tags: { 'steward:backup': 'daily', team: 'payments' },
  }));

const available = (i: number): Snapshot => {
  const id = `steward-daily-${dbId(i)}-2026-01-14-0300`;
  return {
    kind: 'rds-instance',
    id,
    arn: fakeSnapshotArn('rds-instance', PRIMARY, id),
    region: PRIMARY,
    sourceId: dbId(i),
    createdAt: '2026-01-14T03:05:00.000Z',
    status: 'available',
    type: 'manual',
    encrypted: true,
    tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': dbId(i) },
  };
};

const sns = mockClient(SNSClient);

const setup = (o: { dbs: number; snapshots?: number; failEvery?: number; reportsFail?: boolean }) => {
  const primaryStore = fakeSnapshotStore(
    PRIMARY,
    Array.from({ length: o.snapshots ?? 0 }, (_, i) => available(i)),
  );
  const primary = fakeBackupPort(PRIMARY, estate(o.dbs), [], primaryStore);
  if (o.failEvery) {
    for (let i = 0; i < o.dbs; i += o.failEvery) {
      primary.failCreate.set(
        dbId(i),
        Object.assign(
          new Error(`SnapshotQuotaExceeded: ${'Cannot create more than 100 manual snapshots. '.repeat(4)}`),
          {
            name: 'SnapshotQuotaExceeded',
          },
        ),
      );
    }
  }
  const reports = memoryRunReports('steward-prod-reports-111122223333-eu-west-1', PRIMARY);
  if (o.reportsFail) reports.fail = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
  const deps: BackupDeps = {
    config: parseConfig(configInput, 'test'),
    dryRun: false,
    notifier: snsNotifier(new SNSClient({ region: PRIMARY }), TOPICS, 'prod'),
    now: () => NOW,
    primary,
    dr: fakeCopyPort(DR, fakeSnapshotStore(DR)),
    snapshots: { primary: primaryStore, dr: fakeSnapshotStore(DR) },
    reports,
  };
  return { deps, reports };
};

/** The one Publish request, with its readable (email) body: the `default` of the per-protocol message. */
const published = (): PublishCommandInput & { body: string } => {
  const calls = sns.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]!.args[0].input;
  expect(input.MessageStructure).toBe('json');
  return { ...input, body: (JSON.parse(input.Message!) as { default: string }).default };
};

describe('backup notifications stay bounded at any estate size', () => {
  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  it('the budget is well under the SNS limit, and counts subject, message and attributes in UTF-8 bytes', () => {
    expect(SNS_MESSAGE_LIMIT).toBe(256 * 1024);
    expect(MESSAGE_BUDGET).toBeLessThanOrEqual(SNS_MESSAGE_LIMIT / 2);
    expect(
      publishedBytes({
        Subject: 'é',
        Message: '→',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'info' } },
      }),
    ).toBe(2 + 3 + 'severity'.length + 'String'.length + 'info'.length);
  });

  it.each([500, 2000])(
    'a scheduled backup of %i databases publishes a summary under the budget and the full report to S3',
    async (n) => {
      // Prepare
      const { deps, reports } = setup({ dbs: n, snapshots: n });
      // Act
      await runBackup(
        { action: 'scheduled-backup', policy: 'daily', scheduledTime: NOW, dryRun: false },
        deps,
      );
      // Assert
      const p = published();
      expect(publishedBytes(p)).toBeLessThanOrEqual(MESSAGE_BUDGET);
      expect(p.body).toContain(`${n} created, 0 skipped, 0 failed`);
      expect(p.body).toContain(`and ${n - 10} more`);
      const [key] = [...reports.objects.keys()];
      expect(key).toMatch(/^runs\/backup\/2026-01-15\/20260115T030020Z-scheduled-backup-daily\.json$/);
      expect(p.body).toContain(`s3://steward-prod-reports-111122223333-eu-west-1/${key}`);
      expect(p.body).toContain(
        `https://console.aws.amazon.com/s3/object/steward-prod-reports-111122223333-eu-west-1?region=eu-west-1&prefix=${encodeURIComponent(key!)}`,
      );
      const full = JSON.parse(reports.objects.get(key!)!) as {
        outcomes: { action: string; status: string }[];
      };
      // Every create, and every copy decision (20 started: the documented limit of DB snapshot copies per
      // destination; the rest deferred; the new snapshots are not yet available to copy), is in the full report.
      const of = (action: string, status: string) =>
        full.outcomes.filter((o) => o.action === action && o.status === status).length;
      expect(of('create-snapshot', 'done')).toBe(n);
      expect(of('copy-to-dr', 'done')).toBe(20);
      expect(of('copy-to-dr', 'skipped')).toBe(2 * n - 20);
    },
  );

  it('2000 databases with 200 failures: the failures come first, the top ones named, the rest counted', async () => {
    // Prepare
    const { deps, reports } = setup({ dbs: 2000, failEvery: 10 });
    // Act
    await expect(
      runBackup({ action: 'scheduled-backup', policy: 'daily', scheduledTime: NOW, dryRun: false }, deps),
    ).rejects.toThrow();
    // Assert
    const p = published();
    expect(publishedBytes(p)).toBeLessThanOrEqual(MESSAGE_BUDGET);
    expect(p.TopicArn).toBe(TOPICS.critical);
    const lines = p.body.split('\n');
    const firstFailure = lines.findIndex((l) => l.startsWith('FAILED'));
    const firstDone = lines.findIndex((l) => l.startsWith('done'));
    expect(firstFailure).toBeGreaterThan(-1);
    expect(firstFailure).toBeLessThan(firstDone);
    expect(p.body).toContain(`FAILED create-snapshot ${dbId(0)}`);
    expect(p.body).toContain('and 175 more failed');
    const full = JSON.parse([...reports.objects.values()][0]!) as { outcomes: { status: string }[] };
    expect(full.outcomes.filter((o) => o.status === 'failed')).toHaveLength(200);
  });

  it('a reconcile with 1000 deferred copies publishes a summary under the budget', async () => {
    // Prepare
    const { deps } = setup({ dbs: 0, snapshots: 1020 });
    // Act
    await runBackup({ action: 'reconcile-copies', dryRun: false }, deps);
    // Assert
    const p = published();
    expect(publishedBytes(p)).toBeLessThanOrEqual(MESSAGE_BUDGET);
    expect(p.body).toContain('1000 deferred');
  });

  it('when the full report cannot be written, the summary is still sent, as a warning, and says so', async () => {
    // Prepare
    const { deps } = setup({ dbs: 500, snapshots: 500, reportsFail: true });
    // Act
    await runBackup({ action: 'scheduled-backup', policy: 'daily', scheduledTime: NOW, dryRun: false }, deps);
    // Assert: the backups are fine, the missing report is a warning.
    const p = published();
    expect(p.TopicArn).toBe(TOPICS.warning);
    expect(publishedBytes(p)).toBeLessThanOrEqual(MESSAGE_BUDGET);
    expect(p.body).toContain('Full report unavailable: AccessDenied: Access Denied');
    expect(p.body).not.toContain('s3://');
  });

  it('an unknown policy name of 10 000 characters is echoed cut short in the error', async () => {
    // Prepare
    const { deps } = setup({ dbs: 1 });
    // Act
    const run = runBackup(
      { action: 'scheduled-backup', policy: 'p'.repeat(10_000), scheduledTime: NOW, dryRun: false },
      deps,
    );
    // Assert
    const e = (await run.then(
      () => new Error('resolved'),
      (x: unknown) => x,
    )) as Error;
    expect(e.message).toMatch(
      /^Unknown backup policy "p+\.\.\. \(10002 chars\): policy: not in backup.policies$/,
    );
    expect(e.message.length).toBeLessThan(200);
  });
});
