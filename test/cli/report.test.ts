import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flags } from '../../cli/flags.js';
import { main } from '../../cli/main.js';
import { report } from '../../cli/report.js';
import { EVIDENCE_NOW, evidenceEstate } from '../fakes/evidence-estate.js';

const flags = (f: Partial<Flags> = {}): Flags =>
  ({ stage: 'prod', wait: false, 'dry-run': false, json: false, help: false, ...f }) as Flags;

const estate = () => evidenceEstate();

describe('steward report', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes last month's evidence as one HTML page and prints its summary", async () => {
    // Prepare
    const out = join(dir, 'evidence.html');
    const lines: string[] = [];
    // Act
    const code = await report([], flags({ out }), (s) => lines.push(s), {
      estate: estate(),
      now: () => EVIDENCE_NOW,
    });
    // Assert
    expect(code).toBe(0);
    expect(lines.join('\n')).toMatch(
      /^2026-11 recovery evidence: 93\/97 scheduled backups, 2\/2 drills passed, 1 unprotected/,
    );
    expect(lines.join('\n')).toContain(`Wrote ${out}`);
    expect(await readFile(out, 'utf8')).toContain('<title>Recovery evidence: prod, November 2026</title>');
  });

  it('prints the JSON document with --json and writes no file unless --out is given', async () => {
    // Prepare
    const lines: string[] = [];
    // Act
    const code = await report([], flags({ json: true, month: '2026-11' }), (s) => lines.push(s), {
      estate: estate(),
      now: () => EVIDENCE_NOW,
    });
    // Assert
    expect(code).toBe(0);
    expect(JSON.parse(lines.join('\n'))).toMatchObject({
      type: 'steward-evidence-report',
      month: '2026-11',
      summary: { backupsTaken: 93 },
    });
  });

  it.each([
    [['report', '--month', '2026-13'], /--month takes a month such as 2026-11 \(got "2026-13"\)/],
    [['report', '--month', '2999-01'], /--month 2999-01 has not started yet/],
    [['report', 'november'], /report takes no arguments/],
  ])('exits 2 for %j', async (argv, message) => {
    // Prepare
    const errors: string[] = [];
    const orig = console.error;
    console.error = (s: string) => errors.push(s);
    try {
      // Act
      const code = await main(argv, () => {});
      // Assert
      expect(code).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors.join('\n')).toMatch(message);
  });

  it('an --out it cannot write is bad input naming --out, not a raw ENOENT (exit 1)', async () => {
    // Prepare
    const out = join(dir, 'no-such-dir', 'evidence.html');
    // Act
    const run = report([], flags({ out, month: '2026-11' }), () => {}, {
      estate: estate(),
      now: () => EVIDENCE_NOW,
    });
    // Assert
    await expect(run).rejects.toMatchObject({
      name: 'UsageError',
      message: expect.stringContaining(`--out ${out}: `),
    });
  });

  it.each([
    ['a directory that does not exist', 'no-such-dir/evidence.html', 'no such directory: '],
    ['a directory', '.', 'is a directory: name the HTML file to write'],
  ])('--out in %s: exit 2 naming --out, before reading anything', async (_, name, said) => {
    // Prepare: the history dir holds no sandbox history, so reading it first would fail otherwise.
    const errors: string[] = [];
    const orig = console.error;
    console.error = (s: string) => errors.push(s);
    const out = join(dir, name);
    try {
      // Act
      const code = await main(['report', '--history', dir, '--month', '2026-11', '--out', out], () => {});
      // Assert
      expect(code).toBe(2);
    } finally {
      console.error = orig;
    }
    expect(errors.join('\n')).toContain(`--out ${out}: ${said}`);
  });
});
