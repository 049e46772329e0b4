import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { renderRetentionPlan } from '../../cli/plan.js';
import type { Snapshot } from '../../shared/model.js';
import { planRetention } from '../../shared/retention/gfs.js';
import { Tag } from '../../shared/tags.js';
import { onExample } from '../support/examples.js';

// `steward plan retention` prints what an operator reads: each deletion (and each doubt) named, one line per
// database counting what it keeps by rule, the totals. At 500 databases that is the day's deletions and 500
// lines, not 20 000 KEEP rows; --all lists every snapshot, --json keeps the full plan.

const NOW = new Date('2026-11-23T04:30:00Z');
const DAY = 86_400_000;

/** 500 databases with 40 daily snapshots each (20 000), one of them with a bad retain-until tag. */
const estate = (): Snapshot[] =>
  Array.from({ length: 500 }, (_, d) => {
    const db = `db-${String(d).padStart(3, '0')}`;
    return Array.from({ length: 40 }, (_, i): Snapshot => {
      const at = new Date(NOW.getTime() - (i + 1) * DAY + 3_600_000).toISOString();
      const id = `steward-${db}-${at.slice(0, 10).replace(/-/g, '')}0300-sched`;
      return {
        kind: 'rds-instance',
        id,
        arn: `arn:aws:rds:eu-west-1:111122223333:snapshot:${id}`,
        region: 'eu-west-1',
        sourceId: db,
        createdAt: at,
        status: 'available',
        type: 'manual',
        tags: {
          [Tag.managed]: 'true',
          [Tag.policy]: 'daily',
          ...(d === 7 && i === 5 ? { [Tag.retainUntil]: '2026-13-01' } : {}),
        },
      };
    });
  }).flat();

const plan = () =>
  planRetention(
    estate(),
    () => ({ name: 'standard', policy: { daily: 30, weekly: 6, monthly: 0, yearly: 0, keepAtLeast: 3 } }),
    NOW,
    {},
  );

describe('renderRetentionPlan at 500 databases (20 000 snapshots)', () => {
  it('names every deletion and every doubt, and gives each database one line of what it keeps', () => {
    // Prepare
    const p = plan();

    // Act
    const text = renderRetentionPlan(p);
    const lines = text.split('\n');

    // Assert: no KEEP row but the one on doubt; every deletion named.
    expect(p.verdicts).toHaveLength(20_000);
    expect(lines.filter((l) => l.startsWith('KEEP '))).toEqual([
      expect.stringContaining('bad steward:retain-until value "2026-13-01"'),
    ]);
    const expired = lines.filter((l) => l.startsWith('EXPIRE '));
    expect(expired).toHaveLength(p.summary.expire);
    for (const s of p.delete) expect(text).toContain(s.id);
    // One line per database: the newest 30 days, and of the 6 newest ISO weeks the one older than them.
    const perDb = lines.filter((l) => /^eu-west-1 +rds-instance +db-\d{3} /.test(l));
    expect(perDb).toHaveLength(500);
    expect(perDb[0]).toMatch(/^eu-west-1 +rds-instance +db-000 +31 +daily 30, weekly 1 +9 +0 +0$/);
    expect(perDb[7]).toMatch(/db-007 +32 +daily 30, weekly 1, bad-retain-until 1 +8 /);
    // Bounded by the deletions and the databases, not the snapshots.
    expect(lines.length).toBeLessThan(p.summary.expire + 500 + 20);
    expect(lines.at(-1)).toBe(
      `${20_000 - p.summary.expire - 1} kept or skipped are counted above, not listed: --all lists every snapshot, --json prints the full plan.`,
    );
  });

  it('with all, lists every snapshot with the rule that decided it', () => {
    const p = plan();
    const lines = renderRetentionPlan(p, { all: true }).split('\n');
    expect(lines.filter((l) => /^(KEEP|EXPIRE|DEFER|SKIP) /.test(l))).toHaveLength(20_000);
    expect(lines.at(-1)).toMatch(/^20000 snapshots: /);
  });

  it('says so when there is nothing to delete and nothing in doubt', () => {
    const text = renderRetentionPlan(planRetention([], () => undefined, NOW, {}));
    expect(text.split('\n')[0]).toBe('Nothing to delete, nothing in doubt.');
  });
});

describe('steward plan retention --all (the CLI)', () => {
  let stderr: string[];
  beforeEach(() => {
    stderr = [];
    vi.spyOn(console, 'error').mockImplementation((s: unknown) => void stderr.push(String(s)));
  });
  afterEach(() => vi.restoreAllMocks());

  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await main(argv, (s) => out.push(s));
    return { code, out: out.join('\n') };
  };
  const inventory = ['--inventory', 'events/inventory/snapshots.json', ...onExample('prod')];

  it('prints deletions and one line per database by default, every row with --all, the full plan with --json', async () => {
    // Act
    const short = await cli('plan', 'retention', ...inventory);
    const all = await cli('plan', 'retention', '--all', ...inventory);
    const json = await cli('plan', 'retention', '--json', ...inventory);

    // Assert
    expect([short.code, all.code, json.code]).toEqual([0, 0, 0]);
    const rows = (text: string) => text.split('\n').filter((l) => /^(KEEP|EXPIRE|DEFER|SKIP) /.test(l));
    const verdicts = (JSON.parse(json.out) as { verdicts: unknown[] }).verdicts;
    expect(rows(all.out)).toHaveLength(verdicts.length);
    expect(rows(short.out).length).toBeLessThan(verdicts.length / 4);
    expect(short.out).toContain('Per database');
    expect(rows(short.out).filter((l) => l.startsWith('EXPIRE '))).toEqual(
      rows(all.out).filter((l) => l.startsWith('EXPIRE ')),
    );
  });

  it('refuses --all for plan backup, naming the flag (exit 2)', async () => {
    const { code } = await cli(
      'plan',
      'backup',
      '--all',
      '--inventory',
      'events/inventory/databases.json',
      ...onExample('prod'),
    );
    expect(code).toBe(2);
    expect(stderr.join('\n')).toContain('--all lists every snapshot of plan retention');
  });

  it('names --all for a misspelt --al', async () => {
    const { code } = await cli('plan', 'retention', '--alll', ...inventory);
    expect(code).toBe(2);
    expect(stderr.join('\n')).toContain('did you mean --all?');
  });
});
