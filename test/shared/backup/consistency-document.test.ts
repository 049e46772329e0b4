import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  consistencyDocument,
  documentScript,
  stepParameters,
} from '../../../shared/backup/consistency-document.js';

// Values an attacker (or a careless config) could put in a command or a key: none may be parsed by
// steward's script as shell code; the configured command itself runs as written.
const HOSTILE = [
  '"; touch PWNED; echo "',
  "'; touch PWNED; echo '",
  '$(touch PWNED)',
  '`touch PWNED`',
  'a\ntouch PWNED',
  '{{ssm:/prod/db-password}}',
  '\\"$(touch PWNED)\\"',
];

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'steward-doc-'));
  // A stand-in `aws` on PATH: records its arguments and what it read from stdin.
  const bin = join(dir, 'bin');
  spawnSync('mkdir', ['-p', bin]);
  writeFileSync(
    join(bin, 'aws'),
    `#!/bin/sh\nprintf '%s\\n' "$@" >> "${dir}/aws-args"\nif [ "$3" = "-" ]; then cat > "${dir}/aws-stdin"; fi\nexit "\${FAKE_AWS_EXIT:-0}"\n`,
  );
  chmodSync(join(bin, 'aws'), 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Run the document's script under POSIX sh as the agent would, with the parameters as SSM_* variables. */
const runScript = (params: Record<string, string[]>, env: Record<string, string> = {}) => {
  const vars = Object.fromEntries(Object.entries(params).map(([k, v]) => [`SSM_${k}`, v[0]!]));
  return spawnSync('sh', ['-c', documentScript()], {
    cwd: dir,
    env: {
      PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
      STEWARD_STATE_DIR: join(dir, 'state'),
      SSM_WatchdogSeconds: '0',
      SSM_PostCommand: '',
      SSM_ObjectUri: '',
      ...vars,
      ...env,
    },
    encoding: 'utf8',
  });
};

describe('the steward Command document', () => {
  it('passes every value steward sends as an environment variable, never into the script text', () => {
    // Act
    const doc = consistencyDocument();
    // Assert
    for (const [name, p] of Object.entries(doc.parameters)) {
      if (name === 'ExecutionTimeout') expect(p).toMatchObject({ allowedPattern: '^[0-9]{1,5}$' });
      else expect(p, name).toMatchObject({ interpolationType: 'ENV_VAR' });
    }
    const step = doc.mainSteps[0]!;
    expect(step.inputs.runCommand.join('\n')).not.toContain('{{');
    // The one interpolation: digits only, into the agent's timeout, not into the script.
    expect(step.inputs.timeoutSeconds).toBe('{{ExecutionTimeout}}');
  });

  it('sends any configured command and key byte for byte (no quoting layer to get wrong)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom(...HOSTILE)), fc.string(), (command, uri) => {
        const p = stepParameters({
          phase: 'dump',
          command,
          runId: 'i-1-202601150300',
          timeoutSeconds: 60,
          objectUri: uri,
        });
        expect(p.Command).toEqual([command]);
        expect(p.ObjectUri).toEqual([uri]);
      }),
      { numRuns: 200 },
    );
  });

  it('runs the configured command as written', () => {
    // Act
    const r = runScript(
      stepParameters({
        phase: 'check',
        command: 'printf "%s|" "a b" > out',
        runId: 'r1',
        timeoutSeconds: 60,
      }),
    );
    // Assert
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('a b|');
  });

  it.each(HOSTILE)('never runs what an object key or a post command contains: %j', (hostile) => {
    // Act: a hostile key in a dump, a hostile watchdog command that does not fire.
    const dump = runScript(
      stepParameters({
        phase: 'dump',
        command: 'echo data',
        runId: 'r1',
        timeoutSeconds: 60,
        objectUri: `s3://b/${hostile}`,
      }),
    );
    // Assert
    expect(dump.status, dump.stderr).toBe(0);
    expect(readFileSync(join(dir, 'aws-args'), 'utf8')).toBe(`s3\ncp\n-\ns3://b/${hostile}\n`);
    expect(readFileSync(join(dir, 'aws-stdin'), 'utf8')).toBe('data\n');
    expect(readdirSync(dir)).not.toContain('PWNED');
  });

  it('a failed dump fails the step and removes the partial object', () => {
    // Act
    const r = runScript(
      stepParameters({
        phase: 'dump',
        command: 'echo partial; exit 3',
        runId: 'r1',
        timeoutSeconds: 60,
        objectUri: 's3://b/k',
      }),
    );
    // Assert
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/dump command exited 3/);
    expect(readFileSync(join(dir, 'aws-args'), 'utf8')).toBe('s3\ncp\n-\ns3://b/k\ns3\nrm\ns3://b/k\n');
  });

  it('fails closed, changing nothing, on an agent that does not pass parameters as variables', () => {
    // Act
    const r = spawnSync('sh', ['-c', documentScript()], {
      cwd: dir,
      env: { PATH: '/usr/bin:/bin' },
      encoding: 'utf8',
    });
    // Assert
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/interpolationType ENV_VAR/);
  });

  it('the host watchdog runs the post command when no post phase comes', async () => {
    // Act: a freeze bound of 0 s, then no post phase.
    const r = runScript(
      stepParameters({
        phase: 'pre',
        command: 'echo frozen > frozen',
        runId: 'r1',
        timeoutSeconds: 60,
        watchdog: { seconds: 0, postCommand: 'echo thawed > thawed' },
      }),
    );
    // Assert
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'frozen'))).toBe(true);
    await until(() => existsSync(join(dir, 'thawed')));
    expect(readFileSync(join(dir, 'thawed'), 'utf8')).toBe('thawed\n');
  });

  it('the post phase ends the watchdog (its whole process group) and runs the post command', async () => {
    // Prepare: a watchdog armed for an hour.
    const params = { phase: 'pre' as const, command: 'true', runId: 'r2', timeoutSeconds: 60 };
    runScript(stepParameters({ ...params, watchdog: { seconds: 3600, postCommand: 'echo late > late' } }));
    const pidFile = join(dir, 'state', 'watchdog-r2.pid');
    const group = Number(readFileSync(pidFile, 'utf8'));
    await until(() => liveInGroup(group) >= 2); // sh and its sleep
    // Act
    const post = runScript(stepParameters({ ...params, phase: 'post', command: 'echo thawed > thawed' }));
    // Assert
    expect(post.status).toBe(0);
    expect(readFileSync(join(dir, 'thawed'), 'utf8')).toBe('thawed\n');
    expect(existsSync(pidFile)).toBe(false);
    await until(() => liveInGroup(group) === 0);
    expect(existsSync(join(dir, 'late'))).toBe(false);
  });
});

/** Processes of a process group that are not zombies (from /proc). */
const liveInGroup = (pgid: number): number =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(pgrp) === pgid && state !== 'Z';
      } catch {
        return false;
      }
    }).length;

/** Wait for a condition the test itself caused (a process ending), bounded. */
const until = async (ok: () => boolean) => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
};
