import {
  configLocation,
  displayPath,
  type FileProblem,
  loadStageFiles,
  renderProblem,
} from '../shared/config/files.js';
import { BAD_INPUT_EXIT } from '../shared/errors.js';
import type { Flags } from './flags.js';
import { UsageError } from './base.js';

/**
 * `steward validate [--config <file or dir>] [--stage <name>] [--json]`: read and validate stage configs
 * exactly as synth does, list every problem with file, line, column, key path and fix. Exit 0 when all are
 * valid, 2 otherwise. Reads no AWS.
 */
export const validate = async (
  positionals: string[],
  flags: Flags,
  out: (s: string) => void,
): Promise<number> => {
  const [given] = positionals;
  if (given !== undefined && flags.config !== undefined)
    throw new UsageError(
      `steward validate: give the config as the argument or as --config, not both (got ${given} and --config ${flags.config})`,
      ['--config'],
    );
  const location = given ?? configLocation(flags.config);
  const { results, problems } = loadStageFiles(location, flags.stage);
  const valid = problems.length === 0;
  const fileProblems = new Set(results.flatMap((r) => (r.ok ? [] : r.problems)));
  const general = problems.filter((p) => !fileProblems.has(p));
  if (flags.json) {
    const shape = (p: FileProblem) => ({ ...p, text: renderProblem(p) });
    out(
      JSON.stringify(
        {
          valid,
          location: displayPath(location),
          stages: results.map((r) => ({
            file: r.file,
            stage: r.stage ?? null,
            valid: r.ok,
            problems: r.ok ? [] : r.problems.map(shape),
            warnings: r.ok ? r.warnings.map(shape) : [],
          })),
          problems: problems.map(shape),
        },
        null,
        2,
      ),
    );
    return valid ? 0 : BAD_INPUT_EXIT;
  }
  for (const p of general) out(`✗ ${renderProblem(p)}`);
  for (const r of results) {
    if (r.ok) {
      out(`✓ ${r.file}: stage ${r.stage} (${r.config.region})`);
      for (const w of r.warnings) out(`  warning: ${renderProblem(w)}`);
    } else {
      const n = r.problems.length;
      out(`✗ ${r.file}: ${r.stage ? `stage ${r.stage}, ` : ''}${n} problem${n === 1 ? '' : 's'}`);
      for (const p of r.problems) out(`  ${renderProblem(p)}`);
    }
  }
  const bad = results.filter((r) => !r.ok).length;
  if (results.length) {
    out(
      valid
        ? `${results.length} config${results.length === 1 ? '' : 's'} valid`
        : `${bad} of ${results.length} config${results.length === 1 ? '' : 's'} invalid: nothing would be synthesized or deployed`,
    );
  }
  return valid ? 0 : BAD_INPUT_EXIT;
};
