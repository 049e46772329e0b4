// Stage config files (`steward.<stage>.yaml`, `.yml` or `.json`) read with line and column positions.
// Node only: the CDK app and the CLI use it; Lambdas get the resolved document embedded at synth.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from 'yaml';
import { ConfigError } from '../errors.js';
import { renderPath } from './issues.js';
import { configWarnings, StageName, type StewardConfig, validateConfig } from './schema.js';
import { closest } from './suggest.js';

/** Where configs are looked for when neither `--config` / `-c config=` nor STEWARD_CONFIG says. */
export const DEFAULT_CONFIG_DIR = 'config';
/** Where the documented examples live (relative to the repository root). */
export const EXAMPLES_DIR = 'examples';

/** One problem in one file, with its position when the parser could give one. */
export interface FileProblem {
  file: string;
  line?: number;
  column?: number;
  /** Rendered key path, `backup.policies.daily.schedule`; absent for problems with the file itself. */
  path?: string;
  message: string;
}

/** A validated stage file. */
export interface StageFile {
  stage: string;
  file: string;
  config: StewardConfig;
  /** Valid, but worth saying (e.g. targets that are not managed yet). */
  warnings: FileProblem[];
}

/** Result of reading one file: the stage, or every problem found. */
export type StageFileResult =
  ({ ok: true } & StageFile) | { ok: false; file: string; stage?: string; problems: FileProblem[] };

const FILE_NAME = /^steward\.([^.]+)\.(ya?ml|json)$/;

/** `file:line:column: path: message`, the shape editors and CI annotate. */
export const renderProblem = (p: FileProblem): string =>
  `${p.file}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`;

/** A path as the user wrote it when it is under the working directory, else absolute. */
export const displayPath = (path: string, cwd = process.cwd()): string => {
  const rel = relative(cwd, resolve(cwd, path));
  return rel && !rel.startsWith('..') ? rel : resolve(cwd, path);
};

/**
 * The command that deploys a stage from its config file: every CLI hint prints this one. `--all`: a stage
 * that copies to DR is two stacks (`Steward-<stage>` and `Steward-<stage>-dr` in the DR region).
 */
export const deployCommand = (file: string, stage: string, cwd = process.cwd()): string =>
  `npx cdk deploy --all -c config=${displayPath(dirname(file), cwd)} -c stage=${stage}`;

/** The stage a file name declares (`steward.acme.yaml` → `acme`), if it follows the convention. */
export const stageFromFileName = (file: string): string | undefined => FILE_NAME.exec(basename(file))?.[1];

/** Position of the node at `path` (its key for `atKey`), else of the deepest ancestor that exists. */
const locate = (
  root: Node | null,
  path: readonly (string | number)[],
  lines: LineCounter,
  atKey: boolean,
): { line: number; column: number } | undefined => {
  let node: unknown = root;
  let at: number | undefined = (root as Node | null)?.range?.[0];
  for (const [n, seg] of path.entries()) {
    const last = n === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg),
      );
      if (!pair) break;
      const key = pair.key as Node | undefined;
      const value = pair.value as Node | null;
      at = (last && atKey ? key?.range?.[0] : (value?.range?.[0] ?? key?.range?.[0])) ?? at;
      node = value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      at = item.range?.[0] ?? at;
      node = item;
    } else break;
  }
  if (at === undefined) return undefined;
  const { line, col } = lines.linePos(at);
  return { line, column: col };
};

const YAML_POSITION = / at line \d+, column \d+:?[\s\S]*$/;

/**
 * Parse and validate one stage file. `expectedStage` (from `--stage`) must match. Every problem is
 * reported at once: YAML errors and duplicate keys first (then the content is not trusted), else every
 * schema problem, each with its line and column.
 */
export const readStageFile = (path: string, expectedStage?: string, cwd = process.cwd()): StageFileResult => {
  const file = displayPath(path, cwd);
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      ok: false,
      file,
      stage: stageFromFileName(path),
      problems: [
        {
          file,
          message:
            code === 'ENOENT'
              ? `no such file: copy an example (cp ${EXAMPLES_DIR}/steward.prod.yaml ${file}) or run steward init`
              : `cannot read: ${(e as Error).message}`,
        },
      ],
    };
  }
  return checkStageText(text, file, expectedStage);
};

/** Validate a stage file's text; `file` (as shown in messages) also gives the stage by its name. */
export const checkStageText = (text: string, file: string, expectedStage?: string): StageFileResult => {
  const named = stageFromFileName(file);
  const fail = (problems: FileProblem[], stage?: string): StageFileResult => ({
    ok: false,
    file,
    stage,
    problems,
  });
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: false });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const yamlProblems: FileProblem[] = [...doc.errors, ...doc.warnings].map((e) => ({
    file,
    ...at(e.pos[0]),
    message: `YAML ${e.name === 'YAMLWarning' ? 'warning' : 'syntax error'}: ${e.message.replace(YAML_POSITION, '').trim()}`,
  }));
  // Duplicate keys: YAML would keep the last one silently, so a second `retention:` hides the first.
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const first = seen.get(key);
        const pos = (pair.key as Node | null)?.range?.[0];
        if (first !== undefined) {
          yamlProblems.push({
            file,
            ...at(pos),
            message: `duplicate key "${key}" (first at line ${lines.linePos(first).line}): YAML would silently keep only the last one, merge them into one`,
          });
        } else if (pos !== undefined) seen.set(key, pos);
      }
    },
  });
  // A .json file is read by the YAML parser (JSON is YAML), which also takes trailing commas and # comments
  // that JSON tools and editors reject: hold it to JSON.
  if (!yamlProblems.length && /\.json$/i.test(file)) {
    // A byte-order mark (some Windows editors write one) is not a syntax error.
    const bom = text.startsWith('\uFEFF') ? 1 : 0;
    try {
      JSON.parse(text.slice(bom));
    } catch (e) {
      const message = (e as Error).message;
      const offset = /at position (\d+)/.exec(message)?.[1];
      yamlProblems.push({
        file,
        ...at(offset === undefined ? undefined : Number(offset) + bom),
        message: `JSON syntax error: ${message.replace(/ in JSON at position[\s\S]*$/, '')}`,
      });
    }
  }
  if (yamlProblems.length) return fail(yamlProblems, named);

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return fail(
      [
        {
          file,
          line: 1,
          column: 1,
          message: `the file is empty: start from an example (cp ${EXAMPLES_DIR}/steward.prod.yaml ${file}) or run steward init`,
        },
      ],
      named,
    );
  }
  if (!isMap(doc.contents)) {
    return fail(
      [
        {
          file,
          ...at(doc.contents.range?.[0]),
          message: 'must be a mapping of settings (region: ..., backup: ...), not a single value or a list',
        },
      ],
      named,
    );
  }

  let raw: Record<string, unknown>;
  try {
    raw = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  } catch (e) {
    // A "billion laughs" of aliases, or an alias to nothing.
    return fail([{ file, message: `YAML error: ${(e as Error).message}` }], named);
  }
  const problems: FileProblem[] = [];
  const problem = (path: (string | number)[], message: string, atKey = false) =>
    problems.push({ file, ...locate(doc.contents, path, lines, atKey), path: renderPath(path), message });

  // `$schema` points editors at the JSON Schema; it is not part of the config.
  const { $schema: _schema, ...input } = raw;
  const declared = input.stage;
  let stage = typeof declared === 'string' ? declared : named;
  if (declared !== undefined && named !== undefined && declared !== named) {
    problem(
      ['stage'],
      `is "${String(declared)}" but the file is named for stage "${named}": rename the file to steward.${String(declared)}.yaml or remove stage (the file name sets it)`,
    );
    stage = named;
  } else if (declared === undefined && named === undefined) {
    problem(
      ['stage'],
      `is required when the file is not named steward.<stage>.yaml (e.g. stage: prod)`,
      true,
    );
  } else if (declared === undefined && named !== undefined && !StageName.safeParse(named).success) {
    problems.push({
      file,
      message: `"${named}" (from the file name) is not a valid stage name: 1-16 lowercase letters, digits and single hyphens, starting with a letter`,
    });
  }
  if (expectedStage !== undefined && stage !== undefined && stage !== expectedStage) {
    problems.push({ file, message: `holds stage "${stage}", not the requested stage "${expectedStage}"` });
  }

  const r = validateConfig({ ...input, stage });
  if (!r.ok) {
    for (const p of r.problems) {
      // The file name gave the stage: a bad one is reported once above, not as a key the file lacks.
      if (declared === undefined && p.path.length === 1 && p.path[0] === 'stage') continue;
      // An unknown key, or a key whose name is bad (`key "Daily": ...`): at the key, not its value.
      problem(p.path, p.message, p.message.includes('unknown key') || p.message.startsWith('key '));
    }
  }
  // In file order, so the list reads top to bottom like the file.
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (problems.length || !r.ok) return fail(problems, stage);
  const warnings = configWarnings(r.config).map((w) => ({
    file,
    ...locate(doc.contents, w.path, lines, false),
    path: renderPath(w.path),
    message: w.message,
  }));
  return { ok: true, stage: r.config.stage, file, config: r.config, warnings };
};

/** Where configs are: the flag, else STEWARD_CONFIG, else ./config. */
export const configLocation = (
  flag: string | undefined,
  env: Record<string, string | undefined> = process.env,
) => flag ?? env.STEWARD_CONFIG ?? DEFAULT_CONFIG_DIR;

/** Every stage file a location holds: the file itself, or each `steward.<stage>.(yaml|yml|json)` of a directory. */
export const stageFilesAt = (
  location: string,
  cwd = process.cwd(),
): { files: { stage: string; path: string }[]; problems: FileProblem[] } => {
  const shown = displayPath(location, cwd);
  const abs = resolve(cwd, location);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    const hint =
      location === DEFAULT_CONFIG_DIR
        ? `steward looks in ./${DEFAULT_CONFIG_DIR}/ unless told otherwise: create it (mkdir ${DEFAULT_CONFIG_DIR} && cp ${EXAMPLES_DIR}/steward.prod.yaml ${DEFAULT_CONFIG_DIR}/steward.<stage>.yaml), run steward init, or point at your configs with --config <dir> (CDK: -c config=<dir>)`
        : /\.(ya?ml|json)$/.test(location)
          ? `no such file: copy an example (cp ${EXAMPLES_DIR}/steward.prod.yaml ${shown}) or run steward init`
          : `no such file or directory: pass a steward.<stage>.yaml file or a directory of them`;
    // A path from the environment is easy to forget: say where it came from.
    const from = location === process.env.STEWARD_CONFIG ? ' (the path $STEWARD_CONFIG names)' : '';
    return { files: [], problems: [{ file: shown, message: `${hint}${from}` }] };
  }
  if (!isDir) return { files: [{ stage: stageFromFileName(abs) ?? '', path: abs }], problems: [] };
  const files = readdirSync(abs)
    .filter((f) => FILE_NAME.test(f))
    .sort()
    .map((f) => ({ stage: stageFromFileName(f)!, path: join(abs, f) }));
  const problems: FileProblem[] = [];
  const byStage = new Map<string, string>();
  for (const f of files) {
    const other = byStage.get(f.stage);
    if (other) {
      problems.push({
        file: displayPath(f.path, cwd),
        message: `stage "${f.stage}" also has ${displayPath(other, cwd)}: keep one file per stage`,
      });
    }
    byStage.set(f.stage, f.path);
  }
  if (!files.length) {
    problems.push({
      file: shown,
      message: `no steward.<stage>.yaml here: copy an example (cp ${EXAMPLES_DIR}/steward.prod.yaml ${shown}/steward.<stage>.yaml) or run steward init`,
    });
  }
  return { files, problems };
};

/**
 * Read and validate the stages at `location` (all of them, or just `stage`). Every problem of every
 * file is collected; nothing is returned as valid unless all are.
 */
export const loadStageFiles = (
  location: string,
  stage?: string,
  cwd = process.cwd(),
): { stages: StageFile[]; results: StageFileResult[]; problems: FileProblem[] } => {
  const found = stageFilesAt(location, cwd);
  let files = found.files;
  const problems = [...found.problems];
  if (stage !== undefined && files.length > 1) {
    files = files.filter((f) => f.stage === stage);
    if (!files.length) {
      const known = found.files.map((f) => f.stage);
      const near = closest(stage, known);
      problems.push({
        file: displayPath(location, cwd),
        message: `no steward.${stage}.yaml here (stages: ${known.join(', ')})${near ? `: did you mean "${near}"?` : ''}`,
      });
    }
  }
  const results = files.map((f) => readStageFile(f.path, stage, cwd));
  for (const r of results) if (!r.ok) problems.push(...r.problems);
  const stages = results.filter((r): r is StageFileResult & { ok: true } => r.ok);
  return { stages: problems.length ? [] : stages, results, problems };
};

/** Throw one ConfigError that lists every problem, one per line. */
export const configErrorOf = (
  problems: readonly FileProblem[],
  what = 'Invalid steward config',
): ConfigError =>
  new ConfigError(
    `${what} (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
    problems.map(renderProblem),
  );

/**
 * The one stage a command works on: `location` is its file, or a directory with `stage` (or a single
 * stage). Throws ConfigError (exit 2) with every problem.
 */
export const loadStage = (location: string, stage?: string, cwd = process.cwd()): StageFile => {
  const found = stageFilesAt(location, cwd);
  if (stage === undefined && found.files.length > 1) {
    throw configErrorOf([
      {
        file: displayPath(location, cwd),
        message: `holds several stages (${found.files.map((f) => f.stage).join(', ')}): pick one with --stage`,
      },
    ]);
  }
  const { stages, problems } = loadStageFiles(location, stage, cwd);
  if (problems.length || !stages[0]) throw configErrorOf(problems);
  return stages[0];
};
