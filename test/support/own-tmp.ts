import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A temp dir of this test run only. As TMPDIR, everything the code under test creates lands in it, so the
 * test can check what it started (servers, temp dirs) and nothing else on the machine. Traversable by the
 * `postgres` user, which runs the servers when the tests run as root.
 */
export const ownTmpDir = (label: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  chmodSync(dir, 0o755);
  return dir;
};

/** Entries left in `dir`. */
export const leftIn = (dir: string): string[] => readdirSync(dir).sort();

/** Processes whose command line mentions `dir` (e.g. a postmaster started with `-D <dir>/...`). */
export const processesUnder = (dir: string): string[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    });

/** Remove the dir (the test's own). */
export const removeOwnTmpDir = (dir: string): void => rmSync(dir, { recursive: true, force: true });
