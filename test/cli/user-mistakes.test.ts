import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS, usageLine } from '../../cli/commands.js';
import { main } from '../../cli/main.js';
import { report } from '../../cli/report.js';
import type { Flags } from '../../cli/flags.js';
import { evidenceEstate } from '../fakes/evidence-estate.js';
import { onExample } from '../support/examples.js';
import { useMotoEnvironment } from '../support/moto.js';

// A new user's common mistakes, each found by following the README: every one exits 2 before any AWS call,
// naming what was wrong and the closest right word.

const cli = async (...argv: string[]) => {
  const lines: string[] = [];
  const code = await main(argv, (s) => lines.push(s));
  return { code, out: lines.join('\n') };
};

let stderr: string[];
beforeEach(() => {
  stderr = [];
  vi.spyOn(console, 'error').mockImplementation((s: unknown) => void stderr.push(String(s)));
});
afterEach(() => vi.restoreAllMocks());

describe('a misspelt word names itself and the closest right one (exit 2)', () => {
  it.each([
    [
      ['plan', 'retentoin'],
      'unknown plan "retentoin": did you mean "retention"? (plan retention or plan backup)',
    ],
    [['plan'], 'plan what? (plan retention or plan backup)'],
    [['invoke', 'bakup', '--event', 'x.json'], 'unknown function "bakup": did you mean "backup"?'],
    [
      [
        'plan',
        'backup',
        '--policy',
        'dialy',
        '--inventory',
        'events/inventory/databases.json',
        ...onExample('prod'),
      ],
      'unknown backup policy "dialy" for --policy: did you mean "daily"?',
    ],
  ])('%j', async (argv, said) => {
    // Act
    const { code } = await cli(...argv);

    // Assert
    expect(code).toBe(2);
    expect(stderr.join('\n')).toContain(said);
  });

  it('a missing --event file names the flag and the file, not a raw ENOENT', async () => {
    // Act
    const { code } = await cli('invoke', 'backup', '--event', 'no-such-event.json', ...onExample('prod'));

    // Assert
    expect(code).toBe(2);
    expect(stderr.join('\n')).toContain('--event no-such-event.json: no such file');
    expect(stderr.join('\n')).not.toContain('ENOENT');
  });

  it('invoke drill-verify without --event does not point at a sample directory that does not exist', async () => {
    // Act
    const { code } = await cli('invoke', 'drill-verify');

    // Assert
    expect(code).toBe(2);
    expect(stderr.join('\n')).not.toContain('events/drill-verify/');
    expect(stderr.join('\n')).toContain("the drill state machine's Verify task input");
  });
});

describe('plan --inventory: the wrong kind of inventory is refused, naming the file and the right command', () => {
  it('plan backup given the snapshot inventory: exit 2, nothing planned (it used to plan each snapshot as a database)', async () => {
    // Act
    const { code, out } = await cli(
      'plan',
      'backup',
      '--inventory',
      'events/inventory/snapshots.json',
      ...onExample('prod'),
    );

    // Assert
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(stderr.join('\n')).toContain(
      '--inventory events/inventory/snapshots.json holds snapshots, not databases: plan backup takes databases (events/inventory/databases.json); snapshots are for plan retention',
    );
  });

  it('plan retention given the database inventory: one line saying so, not an issue per entry', async () => {
    // Act
    const { code } = await cli(
      'plan',
      'retention',
      '--inventory',
      'events/inventory/databases.json',
      ...onExample('prod'),
    );

    // Assert
    expect(code).toBe(2);
    expect(stderr.join('\n')).toContain(
      '--inventory events/inventory/databases.json holds databases, not snapshots: plan retention takes snapshots (events/inventory/snapshots.json); databases are for plan backup',
    );
    expect(stderr.join('\n')).not.toContain('sourceId');
  });

  it('plan backup names each bad field of a database entry', async () => {
    // Prepare
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/steward-inventory-`);
    const file = `${dir}/databases.json`;
    writeFileSync(
      file,
      JSON.stringify([{ kind: 'rds', id: 'orders-db', region: 'eu-west-1', status: 'available', tags: {} }]),
    );

    // Act
    const { code } = await cli('plan', 'backup', '--inventory', file, ...onExample('prod'), '--json');
    rmSync(dir, { recursive: true, force: true });

    // Assert
    expect(code).toBe(2);
    const said = stderr.join('\n');
    expect(said).toContain(`Invalid database inventory (--inventory ${file})`);
    expect(said).toMatch(/0\.kind: /);
    expect(said).toMatch(/0\.arn: /);
    expect(said).toMatch(/0\.engine: /);
  });
});

describe('output piped into a reader that stops early', () => {
  it('steward schema | head -c 10: exits 0 without an EPIPE stack trace', async () => {
    // Prepare: a real pipe into a reader that stops after 10 bytes (node's own stdio pipes are socketpairs
    // large enough to hold the whole schema, so only a shell pipe shows it)
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { fileURLToPath } = await import('node:url');
    const bin = fileURLToPath(new URL('../../bin/steward.mjs', import.meta.url));
    const script = `"$0" "$1" schema | head -c 10 >/dev/null; echo "\${PIPESTATUS[0]}"`;

    // Act
    const { stdout, stderr: said } = await promisify(execFile)('bash', ['-c', script, process.execPath, bin]);

    // Assert
    expect(said).not.toMatch(/EPIPE|Unhandled/);
    expect(stdout.trim()).toBe('0');
  }, 60_000);
});

describe('a bad name of a mapping key is reported at the key, not at its first child', () => {
  it('backup.policies.Daily (capitalised) points at line 4, column 5, where Daily is', async () => {
    // Prepare
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/steward-keypos-`);
    const file = `${dir}/steward.acme.yaml`;
    writeFileSync(
      file,
      'region: eu-west-1\nbackup:\n  policies:\n    Daily:\n      schedule: cron(0 3 * * ? *)\n      retention: standard\n',
    );

    // Act
    const { code, out } = await cli('validate', file, '--json');
    rmSync(dir, { recursive: true, force: true });

    // Assert
    expect(code).toBe(2);
    const doc = JSON.parse(out) as {
      stages: { problems: { path: string; line?: number; column?: number }[] }[];
    };
    const problems = doc.stages.flatMap((s) => s.problems);
    expect(problems.find((p) => p.path === 'backup.policies.Daily')).toMatchObject({ line: 4, column: 5 });
  });
});

describe('usage lines say what the command takes', () => {
  // --config, --help and --version are stated once for every command; schema --write is for developers.
  const stated = new Set(['config', 'help', 'version', 'write']);

  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    'steward %s: every option is in its usage line',
    (_, c) => {
      const missing = Object.keys(c.options).filter(
        (o) => !stated.has(o) && !usageLine(c).includes(`--${o}`),
      );
      expect(missing).toEqual([]);
    },
  );

  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    'steward %s: a default shown in the usage line is the default',
    (_, c) => {
      // `[--stage dev]` reads as "dev by default": only init has that default.
      if (/\[--stage dev\]/.test(c.usage)) expect(c.options.stage).toMatch(/default: dev/);
    },
  );
});

describe('no AWS credentials', () => {
  const keys = [
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_CONFIG_FILE',
    'AWS_EC2_METADATA_DISABLED',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ENDPOINT_URL',
  ];
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
    for (const k of keys) delete process.env[k];
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/steward-test/credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/steward-test/config';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterEach(() => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('a command that reads AWS says how to give it credentials, and what works without (exit 1)', async () => {
    // Act
    const { code } = await cli('plan', 'backup', ...onExample('prod'));

    // Assert
    expect(code).toBe(1);
    const said = stderr.join('\n');
    expect(said).toContain('Could not load credentials');
    expect(said).toContain(
      'no AWS credentials: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); without AWS: steward plan --inventory <file>, steward status --local, steward report --local, npm start',
    );
  }, 60_000);

  it('plan retention, which lists what it could not read, says it too', async () => {
    // Act
    const { code, out } = await cli('plan', 'retention', ...onExample('prod'));

    // Assert
    expect(code).toBe(1);
    expect(out).toContain('Could not read:');
    expect(out).toContain('no AWS credentials: set AWS_PROFILE');
  }, 60_000);

  it('also when the credentials error is a partial failure of several reads (steward cost)', async () => {
    // Act
    const { code } = await cli('cost', ...onExample('prod'));

    // Assert
    expect(code).toBe(1);
    expect(stderr.join('\n')).toContain('no AWS credentials: set AWS_PROFILE');
  }, 60_000);
});

describe('messages that send the user to a README section name one that exists', () => {
  it('every "(README: <section>)" and README "<section>" in the source and examples is a README heading', async () => {
    // Prepare
    const { readFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const norm = (s: string) => s.replaceAll('’', "'").toLowerCase().trim();
    const headings = [
      ...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/^#{2,5} (?:\d+\. )?(.+)$/gm),
    ].map((m) => norm(m[1]!.replaceAll('`', '')));
    const files = ['infra', 'shared', 'cli', 'functions', 'examples'].flatMap((d) =>
      readdirSync(join(root, d), { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(ts|yaml)$/.test(f))
        .map((f) => join(d, f)),
    );

    // Act
    const dangling: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(root, f), 'utf8');
      for (const m of text.matchAll(/README(?:: | ")([A-Z][^)"\n.,;]*)/g)) {
        const section = norm(m[1]!);
        if (!headings.some((h) => h.startsWith(section))) dangling.push(`${f}: README ${m[1]}`);
      }
    }

    // Assert
    expect(dangling).toEqual([]);
  });
});

describe('sandbox: a server binary set by the environment that is not there', () => {
  it('STEWARD_REDIS_SERVER naming no file: exit 2 naming the variable, before anything starts', async () => {
    // Prepare
    const saved = process.env.STEWARD_REDIS_SERVER;
    process.env.STEWARD_REDIS_SERVER = '/nonexistent/steward-test/redis-server';

    // Act
    const { code } = await cli('sandbox', '--engine', 'redis', '--json');
    if (saved === undefined) delete process.env.STEWARD_REDIS_SERVER;
    else process.env.STEWARD_REDIS_SERVER = saved;

    // Assert
    expect(code).toBe(2);
    expect(stderr.join('\n')).toContain(
      'STEWARD_REDIS_SERVER=/nonexistent/steward-test/redis-server: no such file: point it at a redis-server binary, or unset it to use the one on PATH',
    );
  });
});

describe('stray arguments are bad usage, not silently ignored', () => {
  it.each([
    [['cost', 'prod'], 'steward cost takes no arguments (got: prod)'],
    [['schema', 'out.json'], 'steward schema takes no arguments (got: out.json)'],
    [['sandbox', 'redis'], 'steward sandbox takes no arguments (got: redis)'],
    [['scale', 'orders-db-cpu-high'], 'steward scale takes no arguments (got: orders-db-cpu-high)'],
    [
      ['validate', 'config', 'examples'],
      'steward validate takes one argument, <file or dir> (got also: examples)',
    ],
    [['plan', 'backup', 'daily'], 'steward plan takes one argument, retention|backup (got also: daily)'],
    [['approve', 'e34135da0d95', 'prod'], 'steward approve takes one argument, <id> (got also: prod)'],
    [
      ['validate', 'config', '--config', 'examples'],
      'steward validate: give the config as the argument or as --config, not both (got config and --config examples)',
    ],
  ])('%j', async (argv, said) => {
    // Act
    const { code } = await cli(...argv);

    // Assert
    expect(code).toBe(2);
    expect(stderr.join('\n')).toContain(said);
  });
});

describe('an option the command takes, given where it means nothing, is refused (not silently ignored)', () => {
  it.each([
    [
      [
        'plan',
        'retention',
        '--policy',
        'daily',
        '--inventory',
        'events/inventory/snapshots.json',
        ...onExample('prod'),
      ],
      '--policy picks the policy of plan backup; plan retention judges the snapshots of every policy',
    ],
  ])('%j', async (argv, said) => {
    // Act
    const { code, out } = await cli(...argv);

    // Assert
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(stderr.join('\n')).toContain(said);
  });
});

describe('steward bench with a mistyped group', () => {
  it('exits 2 naming the closest group, on stderr, with one JSON document on stdout under --json', async () => {
    // Act
    const { code, out } = await cli('bench', 'estat', '--json');

    // Assert
    expect(code).toBe(2);
    expect(JSON.parse(out)).toEqual({
      error: expect.objectContaining({
        name: 'UsageError',
        message: 'unknown bench group "estat": did you mean "estate"?',
      }),
    });
    expect(stderr.join('\n')).toContain('unknown bench group "estat": did you mean "estate"?');
  });

  it('the groups the help lists are the groups the bench runs', async () => {
    // Act
    const { BENCH_GROUPS } = await import('../../bench/groups.js');
    const help = COMMANDS.find((c) => c.name === 'bench')!.summary;

    // Assert
    expect(help).toContain(`Name groups to run only those: ${BENCH_GROUPS.join(', ')}.`);
  });
});

describe('options before the command name', () => {
  it('steward --config <dir> --stage prod validate runs validate (it said: unknown command "validate")', async () => {
    // Act
    const { code, out } = await cli(...onExample('prod'), 'validate');

    // Assert
    expect(stderr.join('\n')).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('1 config valid');
  });

  it('a mistyped option there still names the command and the closest option', async () => {
    // Act
    const { code } = await cli('--stage', 'prod', 'invoke', 'backup', '--dryrun');

    // Assert
    expect(code).toBe(2);
    expect(stderr.join('\n')).toContain(
      'unknown option --dryrun for steward invoke: did you mean --dry-run?',
    );
  });
});

describe('steward report --local right after npm start', () => {
  // The sandbox's drills are this month's; report's default is last month, which then has none.
  const estate = evidenceEstate;
  const flags = (f: Partial<Flags>): Flags =>
    ({ wait: false, 'dry-run': false, json: false, help: false, local: true, ...f }) as Flags;

  it('a default month without sandbox drills says which month has them, and the command for it', async () => {
    // Prepare: the history's drills are in 2026-11; the default month is then 2026-12
    const now = new Date('2027-01-10T09:00:00Z');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/steward-report-local-`);
    const lines: string[] = [];

    // Act
    const code = await report([], flags({ out: `${dir}/e.html` }), (s) => lines.push(s), {
      estate: estate(now),
      now: () => now,
    });
    rmSync(dir, { recursive: true, force: true });

    // Assert
    expect(code).toBe(0);
    expect(lines.join('\n')).toContain(
      'note: the sandbox history has no drills in 2026-12 (the default: last month); the newest are in 2026-11: steward report --local --month 2026-11',
    );
  });

  it('says nothing when the month was asked for, or has drills', async () => {
    // Prepare
    const now = new Date('2027-01-10T09:00:00Z');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/steward-report-local-`);
    const lines: string[] = [];

    // Act
    await report([], flags({ out: `${dir}/a.html`, month: '2026-12' }), (s) => lines.push(s), {
      estate: estate(now),
      now: () => now,
    });
    await report([], flags({ out: `${dir}/b.html` }), (s) => lines.push(s), {
      estate: estate(new Date('2026-12-01T06:00:00Z')),
      now: () => new Date('2026-12-01T06:00:00Z'),
    });
    rmSync(dir, { recursive: true, force: true });

    // Assert
    expect(lines.join('\n')).not.toContain('note: the sandbox history');
  });
});

describe('a steward.<stage>.json file is held to JSON, not only YAML', () => {
  it.each([
    ['a trailing comma', '{"region": "eu-west-1",\n  "dryRun": true,\n}\n', 3],
    ['a comment', '{\n  # staging\n  "region": "eu-west-1"\n}\n', 2],
  ])(
    '%s is a syntax error with its line (YAML accepts it; JSON tools and editors do not)',
    async (_, text, line) => {
      // Prepare
      const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const dir = mkdtempSync(`${tmpdir()}/steward-json-`);
      const file = `${dir}/steward.acme.json`;
      writeFileSync(file, text);

      // Act
      const { code, out } = await cli('validate', file, '--json');
      rmSync(dir, { recursive: true, force: true });

      // Assert
      expect(code).toBe(2);
      const doc = JSON.parse(out) as { stages: { problems: { message: string; line?: number }[] }[] };
      const [problem] = doc.stages.flatMap((s) => s.problems);
      expect(problem?.message).toMatch(/^JSON syntax error: /);
      expect(problem?.line).toBe(line);
    },
  );
});

describe('a command against an account where the stage is not deployed', () => {
  useMotoEnvironment('eu-west-1');

  // One hint for both (notDeployedHint): what was looked for, in which account (moto's) and region, and the
  // deploy command with the --config given.
  const hint = (dir: string) =>
    `StageNotDeployed: not found in AWS: state table steward-prod-state (stack Steward-prod) in account 123456789012, region eu-west-1: is stage prod deployed there? (npx cdk deploy --all -c config=${dir} -c stage=prod)`;

  it('approve: the state table is missing; the error says the stage may not be deployed there, and how', async () => {
    // Act
    const { code } = await cli('approve', 'e34135da0d95', ...onExample('prod'), '--dry-run');

    // Assert
    expect(code).toBe(1);
    const said = stderr.join('\n');
    expect(said).toContain('ResourceNotFoundException');
    expect(said).toContain(hint(onExample('prod')[1]!));
    expect(said.match(/not found in AWS/g)).toHaveLength(1);
  }, 60_000);

  it('scale: the same hint, not only a failed decision (the run failed with the table missing)', async () => {
    // Act
    const { code } = await cli('scale', '--alarm', 'orders-db-cpu-high', ...onExample('prod'), '--dry-run');

    // Assert
    expect(code).toBe(1);
    const said = stderr.join('\n');
    expect(said).toContain('ResourceNotFoundException');
    expect(said).toContain(hint(onExample('prod')[1]!));
    expect(said.match(/not found in AWS/g)).toHaveLength(1);
  }, 60_000);
});
