import { beforeEach, describe, expect, it, vi } from 'vitest';
import janitorEvent from '../../../events/drill/janitor.json' with { type: 'json' };
import rdsEvent from '../../../events/drill/rds-restore-complete.json' with { type: 'json' };
import selectEvent from '../../../events/drill/task-select.json' with { type: 'json' };
import type { DrillDeps } from '../../../shared/drill/tasks.js';
import { fakeRestorePort } from '../../fakes/drill-ports.js';
import { fakeDrillDeps } from '../../support/drill-deps.js';

// The drill function imports each task's code when a task first needs it (`await import()` in
// shared/drill/tasks.ts), so a container loads only what it runs: the bench's first invoke, the select task
// of an RDS drill, must not load the janitor, the EBS, Redis, vault or endpoint paths, the report or the
// cost model. Each such module is mocked with itself, recording when it is loaded (statically or not).

const { loaded, everLoaded, watch } = vi.hoisted(() => {
  const loaded = new Set<string>();
  const everLoaded = new Set<string>();
  const watch = (name: string) => async (original: () => Promise<unknown>) => {
    loaded.add(name);
    everLoaded.add(name);
    return original();
  };
  return { loaded, everLoaded, watch };
});

vi.mock('../../../shared/drill/janitor.js', watch('janitor'));
vi.mock('../../../shared/drill/ebs-tasks.js', watch('ebs-tasks'));
vi.mock('../../../shared/drill/cache-tasks.js', watch('cache-tasks'));
vi.mock('../../../shared/drill/vault-tasks.js', watch('vault-tasks'));
vi.mock('../../../shared/drill/endpoint-tasks.js', watch('endpoint-tasks'));
vi.mock('../../../shared/drill/report.js', watch('report'));
vi.mock('../../../shared/drill/rto-rpo.js', watch('rto-rpo'));
vi.mock('../../../shared/drill/cost.js', watch('cost'));
vi.mock('../../../shared/drill/restore-tasks.js', watch('restore-tasks'));
vi.mock('../../../shared/drill/cleanup-task.js', watch('cleanup-task'));
vi.mock('../../../shared/drill/record-task.js', watch('record-task'));
vi.mock('../../../shared/drill/restore-events.js', watch('restore-events'));
vi.mock('../../../shared/drill/execution-end.js', watch('execution-end'));
vi.mock('../../../shared/drill/ebs-verifier.js', watch('ebs-verifier'));
vi.mock('../../../shared/drill/endpoints.js', watch('endpoints'));
vi.mock('../../../shared/drill/vault-select.js', watch('vault-select'));
// The adapters only some tasks use, and the handler's module that wires them.
vi.mock('../../../functions/drill/adapters.js', watch('adapters'));
vi.mock('../../../shared/aws/elasticache-drill.js', watch('aws/elasticache-drill'));
vi.mock('../../../shared/aws/cache-dr.js', watch('aws/cache-dr'));
vi.mock('../../../shared/aws/drill-network.js', watch('aws/drill-network'));
vi.mock('../../../shared/aws/ebs-drill.js', watch('aws/ebs-drill'));
vi.mock('../../../shared/aws/ebs-verifier.js', watch('aws/ebs-verifier'));
vi.mock('../../../shared/aws/vault-drill.js', watch('aws/vault-drill'));
vi.mock('../../../shared/aws/drill-endpoints.js', watch('aws/drill-endpoints'));
// The RDS restore port's restore, status and cleanup parts (select reads only its lookup).
vi.mock('../../../shared/aws/rds-drill-restore.js', watch('aws/rds-drill-restore'));
vi.mock('../../../shared/aws/rds-drill-status.js', watch('aws/rds-drill-status'));
vi.mock('../../../shared/aws/rds-drill-cleanup.js', watch('aws/rds-drill-cleanup'));

/** The handler tests' deps, with orders-db's snapshot to select; building the late adapters is recorded. */
const fakeDeps = (): DrillDeps => {
  const restore = fakeRestorePort();
  restore.snapshots = [
    {
      kind: 'rds-instance',
      id: 'steward-orders-db-202601310300-sched',
      arn: 'arn:aws:rds:eu-west-1:111122223333:snapshot:steward-orders-db-202601310300-sched',
      region: 'eu-west-1',
      sourceId: 'orders-db',
      createdAt: '2026-01-31T03:00:00.000Z',
      status: 'available',
      type: 'manual',
      tags: {},
    },
  ];
  return fakeDrillDeps({
    restore,
    adapters: async () => {
      loaded.add('late adapters built');
      return {};
    },
  });
};

/** The drill function's `run`, from a fresh module registry: only what this event loads is recorded. */
const freshRun = async (event: unknown) => {
  vi.resetModules();
  loaded.clear();
  const { run } = await import('../../../functions/drill/handler.js');
  return run(event, fakeDeps());
};

describe('drill function: what each trigger loads', () => {
  beforeEach(() => loaded.clear());

  it("the select task of an RDS drill loads no other task's code", async () => {
    // Prepare: a mocked module is loaded once per file (vi.resetModules keeps it), so this runs first.
    expect([...everLoaded]).toEqual([]);

    // Act
    const s = await freshRun(structuredClone(selectEvent));

    // Assert: it ran (a source was selected), loaded none of the watched modules, built no late adapter.
    expect(s).toMatchObject({ source: { snapshotId: 'steward-orders-db-202601310300-sched' } });
    expect([...loaded]).toEqual([]);
  });

  it.each([
    ['the janitor', janitorEvent, ['janitor', 'late adapters built']],
    ['an RDS event', rdsEvent, ['restore-events', 'late adapters built']],
    [
      'the record task',
      { ...structuredClone(selectEvent), task: 'record' },
      ['record-task', 'report', 'rto-rpo', 'cost'],
    ],
    [
      'the cleanup task',
      { ...structuredClone(selectEvent), task: 'cleanup' },
      ['cleanup-task', 'late adapters built'],
    ],
  ])('%s loads its own module when it runs', async (_, event, modules) => {
    // Act
    await freshRun(event).catch(() => undefined);

    // Assert: what the trigger needs is loaded on demand (so the select test above can go red).
    expect([...loaded]).toEqual(expect.arrayContaining(modules));
  });
});
