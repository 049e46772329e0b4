import { afterAll, beforeAll } from 'vitest';
import type { Flags } from '../../cli/flags.js';
import type { DrillReportDocument } from '../../shared/drill/report.js';
import { leftIn, ownTmpDir, removeOwnTmpDir } from './own-tmp.js';

/** What `steward sandbox --json` prints for a drill engine (redis, ebs). */
export interface SandboxJson {
  status: string;
  path: string[];
  report: DrillReportDocument;
  reportFile?: string;
}

/**
 * For the enclosing describe block: TMPDIR is a temp dir of its own while its tests run (everything the code
 * under test creates lands there, so a test checks only what it started), restored and removed afterwards.
 * Returns the dir (read it inside a test or hook). Call inside `describe`.
 */
export const useOwnTmpDir = (label: string): (() => string) => {
  let dir: string | undefined;
  const before = process.env.TMPDIR;
  beforeAll(() => {
    dir = ownTmpDir(label);
    process.env.TMPDIR = dir;
  });
  afterAll(() => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (dir) removeOwnTmpDir(dir);
  });
  return () => {
    if (!dir) throw new Error(`useOwnTmpDir(${label}): read the dir inside a test or hook`);
    return dir;
  };
};

/**
 * `steward sandbox --engine <engine> --json` run in this process (a fresh process per run would mostly measure
 * start-up, and synthesize the drill definition each time), with the describe block's own TMPDIR and its
 * history under it. `run(kind)` adds `--break <kind>`; `left()` is what steward left in that TMPDIR (the drill
 * synthesis child's TypeScript loader caches there too, as tsx-<uid>: the loader's, not steward's).
 * Call inside `describe`.
 */
export const inProcessSandbox = (
  label: string,
  command: (flags: Flags, out: (s: string) => void) => Promise<number>,
  flags: Partial<Flags>,
) => {
  const tmp = useOwnTmpDir(label);
  const run = async (kind?: string) => {
    const lines: string[] = [];
    const code = await command(
      {
        ...flags,
        ...(kind ? { break: kind } : {}),
        history: `${tmp()}/history`,
        json: true,
        all: false,
        force: false,
        write: false,
        wait: false,
        'dry-run': false,
        help: false,
      },
      (s) => lines.push(s),
    );
    return { code, json: JSON.parse(lines.join('\n')) as SandboxJson };
  };
  const left = () => leftIn(tmp()).filter((d) => d.startsWith('steward-'));
  return { tmp, run, left };
};
