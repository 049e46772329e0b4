import { readFileSync } from 'node:fs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS, usageLine } from '../../cli/commands.js';
import { readmeWithCommands } from '../../cli/schema.js';
import { functions } from '../../cli/invoke.js';
import { main } from '../../cli/main.js';
import { redisDrBucketName } from '../../shared/backup/cache-dr.js';
import { onExample } from '../support/examples.js';
import { useMotoEnvironment } from '../support/moto.js';
import { leftIn, ownTmpDir, removeOwnTmpDir } from '../support/own-tmp.js';

const cli = async (...argv: string[]) => {
  const lines: string[] = [];
  const code = await main(argv, (s) => lines.push(s));
  return { code, out: lines.join('\n'), calls: lines.length };
};

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

let stderr: string[];
beforeEach(() => {
  stderr = [];
  vi.spyOn(console, 'error').mockImplementation((s: unknown) => void stderr.push(String(s)));
});
afterEach(() => vi.restoreAllMocks());

describe('help, version and options', () => {
  it('--version prints the package version, also as JSON', async () => {
    // Act
    const text = await cli('--version');
    const json = await cli('--version', '--json');

    // Assert
    expect(text).toEqual({ code: 0, out: `steward ${version}`, calls: 1 });
    expect(JSON.parse(json.out)).toEqual({ version });
  });

  it.each(COMMANDS.map((c) => [c.name]))(
    'steward %s --help shows its usage, options and an example',
    async (name) => {
      // Act
      const help = await cli(name, '--help');
      const viaHelp = await cli('help', name);

      // Assert
      expect(help.code).toBe(0);
      expect(help.out).toMatch(new RegExp(`^Usage: steward ${name}\\b`));
      expect(help.out).toMatch(/\nOptions:\n {2}--/);
      expect(help.out).toMatch(/\nExample:\n {2}(steward|npm) /);
      expect(viaHelp.out).toBe(help.out);
    },
  );

  it("the README's command list is the CLI's own (npm run config:docs regenerates it)", async () => {
    // Prepare
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

    // Act / Assert
    expect(readme).toBe(await readmeWithCommands(readme));
    for (const c of COMMANDS) expect(readme).toContain(`\`${usageLine(c).replaceAll('|', '\\|')}\``);
  });

  it('the global help lists every command', async () => {
    // Act
    const { code, out } = await cli('--help');

    // Assert
    expect(code).toBe(0);
    for (const c of COMMANDS) expect(out).toContain(`  steward ${c.name}`);
  });

  it.each([
    [['invoke', 'backup', '--dryrun'], 'unknown option --dryrun for steward invoke: did you mean --dry-run?'],
    [['plan', 'backup', '--polcy', 'daily'], 'did you mean --policy?'],
    [['status', '--alarm', 'x'], 'steward status does not take --alarm'],
    [['stauts'], 'unknown command "stauts": did you mean "status"?'],
  ])('%j is bad usage (exit 2) naming the closest: %s', async (argv, said) => {
    // Act
    const { code } = await cli(...argv);

    // Assert
    expect(code).toBe(2);
    expect(stderr.join('\n')).toContain(said);
  });
});

describe('--json prints exactly one JSON document', () => {
  it('bad usage: an error document, exit 2', async () => {
    // Act
    const { code, out, calls } = await cli('invoke', 'backup', '--dryrun', '--json');

    // Assert
    expect(code).toBe(2);
    expect(calls).toBe(1);
    expect(JSON.parse(out)).toEqual({
      error: {
        name: 'UsageError',
        message: 'unknown option --dryrun for steward invoke: did you mean --dry-run?',
        fields: ['--dryrun'],
      },
    });
  });

  it.each([[['invoke', '--help']], [['help', 'plan']], [['--help']], [[]]])(
    '%j --json: help and the missing command are JSON too',
    async (argv) => {
      // Act
      const { code, out, calls } = await cli(...argv, '--json');

      // Assert
      expect(calls).toBe(1);
      const doc = JSON.parse(out) as { help?: string; error?: { name: string } };
      if (argv.length) expect([code, doc.help]).toEqual([0, expect.stringMatching(/^(Usage|steward)/)]);
      else expect([code, doc.error?.name]).toEqual([2, 'UsageError']);
    },
  );

  it('a bad event: the error names the fields, exit 2', async () => {
    // Prepare
    const dir = ownTmpDir('steward-cli-event');
    const file = `${dir}/event.json`;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, JSON.stringify({ action: 'scheduled-backup' }));

    // Act
    const { code, out } = await cli('invoke', 'backup', '--event', file, ...onExample('prod'), '--json');
    removeOwnTmpDir(dir);

    // Assert
    expect(code).toBe(2);
    const doc = JSON.parse(out) as { error: { name: string; fields: string[] } };
    expect(doc.error.name).toBe('EventShapeError');
    expect(doc.error.fields.join('\n')).toMatch(/policy/);
  });
});

describe('commands against an emulated AWS endpoint leave nothing in the temp dir', () => {
  useMotoEnvironment('eu-west-1');
  const saved = process.env.TMPDIR;
  const restore = () => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  };
  let tmp: string;
  beforeEach(() => {
    tmp = ownTmpDir('steward-cli-tmp');
    process.env.TMPDIR = tmp;
  });
  afterEach(() => {
    restore();
    removeOwnTmpDir(tmp);
  });
  afterAll(restore);

  // One sample event per function (drill-verify's events come from the state machine's verify task).
  const samples: [string, string][] = [
    ['backup', 'events/backup/scheduled.json'],
    ['retention', 'events/retention/dry-run.json'],
    ['drill', 'events/drill/janitor.json'],
    ['cost', 'events/cost/on-demand.json'],
    ['scaling', 'events/scaling/alarm-state-change.json'],
    ['report', 'events/report/status-check.json'],
  ];

  it('invoke knows every function that has sample events', () => {
    expect(Object.keys(functions).sort()).toEqual([...samples.map(([f]) => f), 'drill-verify'].sort());
  });

  it.each(samples)(
    'invoke %s --event %s --json: one document, never "unknown function"',
    async (fn, event) => {
      // Act
      const { code, out, calls } = await cli(
        'invoke',
        fn,
        '--event',
        event,
        ...onExample('prod'),
        '--dry-run',
        '--json',
      );

      // Assert
      expect(calls).toBe(1);
      const doc = JSON.parse(out) as { error?: { name: string; message: string } };
      expect(doc.error?.message ?? '').not.toMatch(/unknown function/);
      if (doc.error) expect(code).toBe(doc.error.name === 'EventShapeError' ? 2 : 1);
      else expect([0, 1]).toContain(code);
      expect(leftIn(tmp)).toEqual([]);
    },
  );

  it('plan backup reads AWS through the backup handler in dry run and leaves no event file behind', async () => {
    // Act
    const { code, out } = await cli('plan', 'backup', ...onExample('prod'));

    // Assert
    expect(out).toMatch(/\[dry run\] daily backup: 0 planned/);
    expect([0, 1]).toContain(code);
    expect(leftIn(tmp)).toEqual([]);
  });

  it('a dry run says what it would send and never prints a notification as sent', async () => {
    // Prepare: the stage's Redis DR bucket (the example's cache policy copies to DR), which a local retention
    // run reads as the deployed one does (named by its fixed name, moto's account).
    await new S3Client({ region: 'us-west-2', forcePathStyle: true }).send(
      new CreateBucketCommand({
        Bucket: redisDrBucketName('prod', '123456789012', 'us-west-2'),
        CreateBucketConfiguration: { LocationConstraint: 'us-west-2' },
      }),
    );

    // Act
    const { out } = await cli(
      'invoke',
      'retention',
      '--event',
      'events/retention/dry-run.json',
      ...onExample('prod'),
    );

    // Assert
    expect(out).toMatch(
      /\[dry run: not sent; the info topic would get\] \[steward prod\] INFO retention: dry run/,
    );
    expect(out).not.toMatch(/notification →/);
    expect(leftIn(tmp)).toEqual([]);
  });
});
