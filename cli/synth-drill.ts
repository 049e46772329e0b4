// Synthesizing the drill state machine takes ~5 s of synchronous CDK work: in the sandbox it runs in a
// child process, so Ctrl-C stops it at once (a blocked event loop would only see the signal afterwards).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AslDefinition } from '../infra/local-drill.js';
import { StewardError } from '../shared/errors.js';

const CHILD = fileURLToPath(import.meta.url);
// The TypeScript loader by path: the sandbox may run from any working directory.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The synthesis was stopped by `signal`. */
export class SynthesisStopped extends StewardError {
  override name = 'SynthesisStopped';
}

/**
 * The drill state machine CDK synthesizes for `config`, synthesized in a child process. Aborting `signal`
 * kills the child; either way the synthesis directory (created here, not by the child) is removed.
 */
export const synthesizeDrill = async (
  /** The config input (parsed again in the child, as synth parses a stage file). */
  config: unknown,
  signal: AbortSignal,
): Promise<AslDefinition> => {
  // Created and registered in one synchronous step: a second Ctrl-C exits at once (process.exit), and no
  // moment may exist where the directory is on disk but the exit handler that removes it is not.
  const outdir = mkdtempSync(join(tmpdir(), 'steward-drill-synth-'));
  const removeNow = () => rmSync(outdir, { recursive: true, force: true });
  process.once('exit', removeNow);
  try {
    return await new Promise<AslDefinition>((done, fail) => {
      if (signal.aborted) return fail(new SynthesisStopped('stopped before synthesis'));
      const child = spawn(process.execPath, ['--import', TSX, CHILD], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, STEWARD_SYNTH_OUTDIR: outdir },
      });
      const stop = () => child.kill('SIGKILL');
      signal.addEventListener('abort', stop, { once: true });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.once('error', fail);
      child.once('close', (code) => {
        signal.removeEventListener('abort', stop);
        if (signal.aborted) return fail(new SynthesisStopped('synthesis stopped'));
        if (code !== 0)
          return fail(new StewardError(`drill synthesis failed (exit ${code}): ${stderr.trim()}`));
        done(JSON.parse(stdout) as AslDefinition);
      });
      child.stdin.end(JSON.stringify(config));
    });
  } finally {
    process.removeListener('exit', removeNow);
    await rm(outdir, { recursive: true, force: true });
  }
};

const definitions = new Map<string, Promise<AslDefinition>>();
/**
 * `synthesizeDrill`, once per config in a process: the sandboxes' break tests and the bench run the same stage
 * several times, and each synthesis is ~5 s of CDK work. A synthesis that fails or is stopped is forgotten.
 */
export const synthesizeDrillOnce = (config: unknown, signal: AbortSignal): Promise<AslDefinition> => {
  const key = JSON.stringify(config);
  let d = definitions.get(key);
  if (!d) {
    d = synthesizeDrill(config, signal);
    definitions.set(key, d);
    d.catch(() => definitions.delete(key));
  }
  return d;
};

const childMain = async (): Promise<void> => {
  const [{ drillDefinition }, { parseConfig }] = await Promise.all([
    import('../infra/drill-synth.js'),
    import('../shared/config/schema.js'),
  ]);
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const config = parseConfig(JSON.parse(input), 'sandbox');
  process.stdout.write(
    JSON.stringify(drillDefinition(config, { outdir: process.env.STEWARD_SYNTH_OUTDIR! })),
  );
};

if (process.argv[1] === CHILD) await childMain();
