import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** A Node.js binary the bench runs bundles with. */
export interface NodeRuntime {
  path: string;
  version: string;
  /** Where it came from, for the report. */
  source: string;
}

/** `nodejs22.x` → 22. */
export const runtimeMajor = (lambdaRuntime: string): number => {
  const m = /^nodejs(\d+)\.x$/.exec(lambdaRuntime);
  if (!m) throw new Error(`not a Node.js Lambda runtime: ${lambdaRuntime}`);
  return Number(m[1]);
};

/**
 * The Node.js major the functions deploy on. This process when it is that major; otherwise the official
 * binary from the npm registry (`node-<platform>-<arch>@<major>`, fetched once with `npm pack` into
 * `cacheDir`, never installed globally).
 */
export const nodeFor = (major: number, cacheDir: string): NodeRuntime => {
  if (Number(process.versions.node.split('.')[0]) === major)
    return { path: process.execPath, version: process.version, source: 'this process' };
  const pkg = `node-${process.platform}-${process.arch}`;
  const dir = join(cacheDir, `${pkg}-${major}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = mkdtempSync(join(cacheDir, 'fetch-'));
    try {
      const packed = JSON.parse(
        execFileSync('npm', ['pack', `${pkg}@${major}`, '--pack-destination', tmp, '--json', '--silent'], {
          encoding: 'utf8',
        }),
      ) as { filename: string }[];
      execFileSync('tar', ['-xzf', join(tmp, packed[0]!.filename), '-C', tmp, 'package/bin/node']);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      renameSync(join(tmp, 'package'), join(dir, 'package'));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  return { path: bin, version, source: `npm package ${pkg}@${major}` };
};
