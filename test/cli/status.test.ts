import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { renderStatus, status } from '../../cli/status.js';
import type { Flags } from '../../cli/flags.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { Database, Snapshot } from '../../shared/model.js';
import { fileHistory, saveLocalEstate } from '../../shared/report/local-history.js';
import type { StatusDeps } from '../../shared/report/status.js';
import { rdsDatabase, stewardSnapshot } from '../fakes/estate-rows.js';

const NOW = new Date('2026-11-23T06:00:00Z');
const configInput = {
  stage: 'prod',
  region: 'eu-west-1',
  backup: { policies: { daily: { schedule: 'cron(0 3 * * ? *)', kinds: ['rds-instance'] } } },
  drill: {
    enabled: true,
    targets: { 'orders-db': { profile: { database: 'orders', tables: [{ name: 'orders' }] } } },
  },
};
const config = parseConfig(configInput, 'test');

const db = (id: string, tags: Record<string, string> = {}): Database => rdsDatabase(id, tags);
// snapshotId names the snapshot by the time it was taken; status reads the creation time.
const snap = (dbId: string, at: string): Snapshot => stewardSnapshot(dbId, new Date(at));
const drillDoc = (passed: boolean) => ({
  type: 'steward-drill-report',
  version: 1,
  drillId: 'orders-db-20261101050000-cli',
  database: 'orders-db',
  passed,
  summary: passed ? 'DR drill PASSED for orders-db' : 'DR drill FAILED for orders-db at verify',
  reasons: passed ? [] : ['row-count public.orders: 1 (expected >= 100)'],
  ...(passed ? {} : { failedStep: 'verify' }),
  startedAt: '2026-11-01T05:00:00.000Z',
  targets: { rtoSeconds: 3600, rpoSeconds: 300 },
  metrics: {
    rtoSeconds: 1800,
    rpoSeconds: 90,
    rtoTargetSeconds: 3600,
    rpoTargetSeconds: 300,
    rtoMet: true,
    rpoMet: true,
  },
});

const deps = (databases: Database[], snapshots: Snapshot[], drills: unknown[] = []): StatusDeps => {
  const store = new Map(drills.map((d, i) => [`drills/orders-db/2026/11/d${i}.json`, JSON.stringify(d)]));
  return {
    config,
    primary: { region: 'eu-west-1', databases: async () => databases, snapshots: async () => snapshots },
    history: {
      location: 's3://test',
      list: async (prefix) => [...store.keys()].filter((k) => k.startsWith(prefix)).map((key) => ({ key })),
      get: async (key) => store.get(key),
      put: async () => {},
      href: (key) => `s3://test/${key}`,
    },
    now: () => NOW,
  };
};

const flags = (f: Partial<Flags> = {}): Flags =>
  ({ stage: 'prod', wait: false, 'dry-run': false, json: false, help: false, ...f }) as Flags;

const run = async (d: StatusDeps, f: Partial<Flags> = {}, color = false) => {
  const lines: string[] = [];
  const code = await status([], flags(f), (s) => lines.push(s), { status: d, color, now: () => NOW });
  return { code, text: lines.join('\n') };
};

describe('steward status', () => {
  it('prints one row per database, worst first, with the reasons, and exits 1 when something is LATE', async () => {
    // Prepare
    const d = deps(
      [
        db('orders-db', { 'steward:backup': 'daily' }),
        db('billing-db', { 'steward:backup': 'daily' }),
        db('legacy-db'),
      ],
      [snap('orders-db', '2026-11-23T03:01:00Z'), snap('billing-db', '2026-11-22T03:01:00Z')],
      [drillDoc(true)],
    );
    // Act
    const { code, text } = await run(d);
    // Assert
    expect(code).toBe(1);
    expect(text).toContain('3 databases: 1 LATE, 1 UNPROTECTED, 1 OK');
    const rows = text.split('\n').filter((l) => /^(OK|LATE|FAILING|UNPROTECTED) /.test(l));
    expect(rows.map((r) => r.split(/\s+/).slice(0, 4).join(' '))).toEqual([
      'LATE billing-db rds daily',
      'UNPROTECTED legacy-db rds UNPROTECTED',
      'OK orders-db rds daily',
    ]);
    expect(rows[2]).toContain('2026-11-01 passed, RTO 30 min/1 h, RPO 1 min/5 min');
    expect(text).toContain('LATE billing-db: backup: the scheduled backup of 2026-11-23 03:00 UTC missing');
    expect(text).not.toContain('\x1b[');
  });

  it('exits 0 when nothing is LATE or FAILING (UNPROTECTED is reported, not failed)', async () => {
    const d = deps(
      [db('orders-db', { 'steward:backup': 'daily' }), db('legacy-db')],
      [snap('orders-db', '2026-11-23T03:01:00Z')],
      [drillDoc(true)],
    );
    expect((await run(d)).code).toBe(0);
  });

  it('colours only the health words, on a terminal, keeping the columns aligned', async () => {
    // Prepare
    const d = deps(
      [db('orders-db', { 'steward:backup': 'daily' })],
      [snap('orders-db', '2026-11-20T03:01:00Z')],
      [drillDoc(false)],
    );
    // Act
    const { code, text } = await run(d, {}, true);
    // Assert
    expect(code).toBe(1);
    expect(text).toContain('\x1b[31;1mFAILING\x1b[0m  orders-db');
    // eslint-disable-next-line no-control-regex -- stripping the ANSI colour codes under test
    const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
    const [header, , row] = plain.split('\n').slice(3);
    expect(row!.indexOf('orders-db')).toBe(header!.indexOf('DATABASE'));
  });

  it('prints the status document with --json', async () => {
    // Act
    const { code, text } = await run(deps([db('legacy-db')], []), { json: true });
    // Assert
    const doc = JSON.parse(text);
    expect(code).toBe(0);
    expect(doc).toMatchObject({
      type: 'steward-status',
      stage: 'prod',
      counts: { UNPROTECTED: 1 },
      databases: [{ id: 'legacy-db', health: 'UNPROTECTED' }],
    });
  });

  it('renders an empty account without a table', () => {
    const text = renderStatus({
      type: 'steward-status',
      version: 1,
      stage: 'dev',
      region: 'eu-west-1',
      at: NOW.toISOString(),
      counts: { OK: 0, LATE: 0, FAILING: 0, UNPROTECTED: 0 },
      databases: [],
      notes: ['x'],
    });
    expect(text).toBe('steward status: dev, eu-west-1, 2026-11-23 06:00 UTC\n0 databases\n\nNotes:\n  - x');
  });

  it('exits 2 for an argument it does not take', async () => {
    const errors: string[] = [];
    const orig = console.error;
    console.error = (s: string) => errors.push(s);
    try {
      expect(await main(['status', 'orders-db'], () => {})).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors.join('\n')).toMatch(/status takes no arguments/);
  });
});

describe('steward status --history (the sandbox history)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'status-history-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the recorded estate, its config and its drill reports', async () => {
    // Prepare
    const recent = new Date(Date.now() - 3600_000).toISOString();
    await saveLocalEstate(dir, {
      config: {
        ...configInput,
        stage: 'dev',
        drill: { enabled: true, targets: { 'app-db': configInput.drill.targets['orders-db'] } },
      },
      databases: [{ ...db('app-db', { 'steward:backup': 'daily' }), region: 'local' }],
      snapshots: [snap('app-db', recent)],
    });
    await fileHistory(join(dir, 'reports')).put(
      `drills/app-db/${recent.slice(0, 4)}/${recent.slice(5, 7)}/sandbox-1.json`,
      JSON.stringify({ ...drillDoc(true), database: 'app-db', startedAt: recent }),
      'application/json',
    );
    const lines: string[] = [];
    // Act
    const code = await main(['status', '--history', dir, '--json'], (s) => lines.push(s));
    // Assert
    const doc = JSON.parse(lines.join('\n'));
    expect(doc.databases).toEqual([expect.objectContaining({ id: 'app-db', policy: 'daily', held: 1 })]);
    expect(doc.databases[0].drill.last).toMatchObject({ passed: true, rtoSeconds: 1800 });
    expect([0, 1]).toContain(code);
  });

  it.each([
    [['status', '--stage', 'prod'], '--stage'],
    [['status', '--target', '1'], '--target'],
    [['status', '--account', '222222222222'], '--account'],
    [['report', '--config', 'config/steward.prod.yaml', '--month', '2026-11'], '--config'],
    [['report', '--stage', 'prod', '--month', '2026-11'], '--stage'],
  ])('refuses %j with a sandbox history (exit 2) instead of ignoring the option', async (argv, option) => {
    // Prepare: a history that reads fine, so only the option can be refused.
    await saveLocalEstate(dir, {
      config: { ...configInput, stage: 'dev' },
      databases: [{ ...db('app-db', { 'steward:backup': 'daily' }), region: 'local' }],
      snapshots: [],
    });
    const errors: string[] = [];
    const lines: string[] = [];
    const orig = console.error;
    console.error = (s: string) => errors.push(s);
    let code: number;
    try {
      // Act
      code = await main([...argv, '--history', dir, '--json'], (s) => lines.push(s));
    } finally {
      console.error = orig;
    }
    // Assert
    expect(code).toBe(2);
    expect(errors.join('\n')).toContain(
      `${option} reads AWS; --local and --history read the sandbox history (with the stage and config it ran with)`,
    );
    expect(JSON.parse(lines.join('\n'))).toMatchObject({ error: { name: 'UsageError' } });
  });

  it('exits 2 naming the file when there is no history, or it is not one', async () => {
    // Prepare
    const errors: string[] = [];
    const orig = console.error;
    console.error = (s: string) => errors.push(s);
    try {
      // Act
      const missing = await main(['status', '--history', join(dir, 'nothing')], () => {});
      await writeFile(join(dir, 'estate.json'), '{"type":"steward-local-estate","version":1}');
      const bad = await main(['status', '--history', dir], () => {});
      // Assert
      expect([missing, bad]).toEqual([2, 2]);
    } finally {
      console.error = orig;
    }
    expect(errors[0]).toMatch(/no sandbox history at .*nothing\/estate.json: run npm start first/);
    expect(errors[1]).toMatch(/Invalid sandbox history .*estate.json.*config/);
  });
});
