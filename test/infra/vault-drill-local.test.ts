import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  definitionFromTemplate,
  runDrillLocally,
  TaskTimedOut,
} from '../../infra/local-drill.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { VaultCopy } from '../../shared/drill/ports.js';
import type { DrillState, DrillTaskEvent } from '../../shared/drill/state.js';
import { type DrillDeps, runDrillTask } from '../../shared/drill/tasks.js';
import { DRILL_COPY_KEY } from '../../shared/drill/vault-tasks.js';
import { VaultTag } from '../../shared/fleet/vault.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { Tag } from '../../shared/tags.js';
import {
  fakeReportStore,
  fakeRestorePort,
  fakeTaskSignal,
  fakeTokenStore,
  fakeVaultShareLedger,
} from '../fakes/drill-ports.js';
import { VAULT_ACCOUNT, VAULT_DRILL_CONFIG } from '../support/fleet.js';
import { unbundledContext } from './iam.js';

// Drills from the vault of an RDS instance and an Aurora cluster: the hub's synthesized drill definition run
// locally with the real drill tasks over an in-memory RDS (restores) and an in-memory vault (its copies, each
// copy's `restore` attribute, the drill's own copy of an instance copy): the instance copy is shared, copied into
// the hub and restored once the copy is available (WaitForRestore times out into polling: no RDS event comes for
// a snapshot copy), the cluster copy is restored by its ARN, and Cleanup deletes the database, the drill's copy
// and the share on every path. The verification runs in the drill VPC's verifier and is a passing stub here.
const HUB = '111111111111';
const REGION = 'eu-west-1';
const config = parseConfig(VAULT_DRILL_CONFIG, 'vault-drill-local');
const EXECUTION = 'drill-vault-local';

let definition: AslDefinition;
beforeAll(() => {
  const app = new App({ context: unbundledContext });
  const hub = new StewardStack(app, stackId('prod'), { config });
  definition = definitionFromTemplate(
    Template.fromStack(hub).toJSON() as Parameters<typeof definitionFromTemplate>[0],
    'steward-prod-drill',
  );
});

const copyOf = (kind: 'rds-instance' | 'aurora-cluster', db: string): VaultCopy => {
  const id = `steward-${db}-202601310300-sched-1a2b3c4d`;
  const type = kind === 'aurora-cluster' ? 'cluster-snapshot' : 'snapshot';
  const dataTime = new Date(Date.now() - 3_600_000).toISOString();
  return {
    kind,
    id,
    arn: `arn:aws:rds:${REGION}:${VAULT_ACCOUNT}:${type}:${id}`,
    region: REGION,
    sourceId: db,
    createdAt: dataTime,
    status: 'available',
    type: 'manual',
    encrypted: true,
    tags: {
      [Tag.managed]: 'true',
      [Tag.source]: db,
      [Tag.createdBy]: 'vault',
      [VaultTag.vault]: 'true',
      [VaultTag.sourceAccount]: HUB,
      [VaultTag.sourceRegion]: REGION,
      [VaultTag.dataTime]: dataTime,
    },
    ...(kind === 'aurora-cluster' ? { engine: 'aurora-postgresql', engineVersion: '16.4' } : {}),
  };
};

const scenario = (o: { refuseShare?: boolean; copyFails?: boolean } = {}) => {
  const restore = fakeRestorePort(REGION);
  const copies = [copyOf('rds-instance', 'orders-db'), copyOf('aurora-cluster', 'ledger')];
  const shared = new Set<string>();
  const staged = new Map<string, { status: string; polls: number }>();
  const log: string[] = [];
  const signal = fakeTaskSignal();
  const shares = fakeVaultShareLedger();
  const recorded: DrillState[] = [];
  const deps: DrillDeps = {
    config,
    dryRun: false,
    notifier: memoryNotifier(),
    now: () => new Date(),
    restore,
    vault: {
      account: HUB,
      key: DRILL_COPY_KEY,
      shares,
      vault: {
        account: VAULT_ACCOUNT,
        region: REGION,
        copies: async (kind, db) => copies.filter((c) => c.kind === kind && c.sourceId === db),
        share: async (c) => {
          log.push(`share ${c.id}`);
          if (o.refuseShare) throw new Error(`AccessDenied: share ${c.id}`);
          shared.add(c.id);
          // A shared cluster copy restores by its ARN (the fake restore knows only snapshots it can read).
          const copy = copies.find((x) => x.id === c.id)!;
          restore.snapshots.push({ ...copy, id: copy.arn });
          return 'done';
        },
        unshare: async (c) => {
          log.push(`unshare ${c.id}`);
          shared.delete(c.id);
          return 'done';
        },
        sharedWith: async (c) => shared.has(c.id),
      },
      staging: {
        copy: async ({ sourceArn, targetId, tags }) => {
          const id = sourceArn.split(':').at(-1)!;
          if (!shared.has(id)) throw new Error(`DBSnapshotNotFound: ${sourceArn} is not shared with ${HUB}`);
          log.push(`copy ${id} -> ${targetId}`);
          expect(tags[Tag.drill]).toBe(EXECUTION);
          staged.set(targetId, { status: 'creating', polls: 0 });
          restore.snapshots.push({ ...copies[0]!, id: targetId });
          return 'started';
        },
        status: async (id) => {
          const s = staged.get(id);
          if (!s) return undefined;
          // Available on the third look (after the restore task's and the wait's); a failed copy never is.
          if (++s.polls >= 3) s.status = o.copyFails ? 'failed' : 'available';
          return { status: s.status, failed: s.status === 'failed' };
        },
        remove: async (id) => {
          log.push(`delete copy ${id}`);
          return staged.delete(id) ? 'deleted' : 'already-gone';
        },
        listDrillCopies: async () => [],
      },
    },
    tokens: fakeTokenStore(),
    signal,
    reports: fakeReportStore(),
    network: {},
  };
  const tasks = async (e: DrillTaskEvent): Promise<unknown> => {
    const s = e.state as unknown as DrillState;
    if (e.task === 'verify') {
      const at = new Date().toISOString();
      return {
        ...s,
        verifyStartedAt: at,
        verifiedAt: at,
        verification: {
          passed: true,
          outcome: 'passed',
          host: s.target!.endpoint?.host ?? '',
          port: 5432,
          database: 'app',
          user: 'steward_verifier',
          referenceTime: s.source!.referenceTime,
          // The newest row is as old as the copy's data: the data RPO the verifier would measure.
          dataRpoSeconds: 0,
          newestRowTime: s.source!.referenceTime,
          checks: [],
          verifyMs: 1,
          budgetMs: 600_000,
          tables: {},
        },
      };
    }
    if (e.task === 'await') {
      const next = (await runDrillTask(e, deps)) as DrillState;
      // Still copying: no RDS event comes for a snapshot copy, so the wait times out into polling.
      if (next.target?.staged) throw new TaskTimedOut();
      // The restore finished: the RDS event resumes the execution with the state (SendTaskSuccess).
      restore.setStatus(next.target!.id, 'available');
      return runDrillTask({ ...e, task: 'status', state: next as unknown as Record<string, unknown> }, deps);
    }
    const out = (await runDrillTask(e, deps)) as DrillState;
    if (e.task === 'record') recorded.push(out);
    return out;
  };
  return { restore, shared, staged, log, shares, tasks, recorded };
};

const run = (f: ReturnType<typeof scenario>, database: string) =>
  runDrillLocally({
    definition,
    // The copy's data is an hour old: judged against a day, not the stage's 5-minute default.
    input: { database, rpoSeconds: 86_400 },
    tasks: f.tasks,
    executionName: EXECUTION,
    waitMs: 1000,
  });

/** Nothing of the drill left: no database, no drill copy, no share, no share record. */
const nothingLeft = (f: ReturnType<typeof scenario>) => {
  expect([...f.restore.resources.keys()]).toEqual([]);
  expect([...f.staged.keys()]).toEqual([]);
  expect([...f.shared]).toEqual([]);
  expect(f.shares.shares.size).toBe(0);
};

describe('the synthesized drill definition, run locally for drills from the vault', () => {
  it('an instance: shares the vault copy, copies it into the hub, polls until the copy is available, restores it, passes, cleans up', async () => {
    // Prepare
    const f = scenario();

    // Act
    const r = await run(f, 'orders-db');

    // Assert
    expect(r.status).toBe('SUCCEEDED');
    // The copy is not available at the wait: it times out into polling, which restores once it is.
    expect(r.path).toEqual([
      'Start',
      'SelectSnapshot',
      'Restore',
      'WaitForRestore',
      'CheckRestore',
      'Restored?',
      'WaitForRestore',
      'Verify',
      'WarmUp?',
      'Cleanup',
      'Record',
      'Passed?',
      'DrillSucceeded',
    ]);
    const out = r.output as DrillState;
    expect(out.result).toMatchObject({ passed: true });
    expect(f.log).toEqual([
      'share steward-orders-db-202601310300-sched-1a2b3c4d',
      `copy steward-orders-db-202601310300-sched-1a2b3c4d -> ${out.target!.id}`,
      `delete copy ${out.target!.id}`,
      'unshare steward-orders-db-202601310300-sched-1a2b3c4d',
    ]);
    expect(f.restore.requests.map((q) => q.source.snapshotId)).toEqual([out.target!.id]);
    nothingLeft(f);
  });

  it('an Aurora cluster: restores the shared vault copy by its ARN, passes, and unshares', async () => {
    // Prepare
    const f = scenario();

    // Act
    const r = await run(f, 'ledger');

    // Assert
    expect(r.status).toBe('SUCCEEDED');
    expect(f.restore.requests.map((q) => q.source.snapshotId)).toEqual([
      `arn:aws:rds:${REGION}:${VAULT_ACCOUNT}:cluster-snapshot:steward-ledger-202601310300-sched-1a2b3c4d`,
    ]);
    expect(f.log).toEqual([
      'share steward-ledger-202601310300-sched-1a2b3c4d',
      'unshare steward-ledger-202601310300-sched-1a2b3c4d',
    ]);
    nothingLeft(f);
  });

  it('a share the vault refuses is caught into Cleanup and ends DrillFailed, leaving nothing', async () => {
    // Prepare
    const f = scenario({ refuseShare: true });

    // Act
    const r = await run(f, 'orders-db');

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.error?.Error).toBe('DrillFailed');
    expect(r.path).toEqual([
      'Start',
      'SelectSnapshot',
      'Restore',
      'Cleanup',
      'Record',
      'Passed?',
      'DrillFailed',
    ]);
    nothingLeft(f);
  });

  it('a drill copy that fails is caught into Cleanup, which deletes it and unshares, and ends DrillFailed', async () => {
    // Prepare
    const f = scenario({ copyFails: true });

    // Act
    const r = await run(f, 'orders-db');

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.path).toContain('Cleanup');
    expect(f.log.at(-1)).toBe('unshare steward-orders-db-202601310300-sched-1a2b3c4d');
    expect(f.restore.requests).toEqual([]);
    nothingLeft(f);
  });
});
