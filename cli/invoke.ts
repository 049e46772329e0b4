import type { BaseDeps } from '../shared/runtime.js';
import { stateTableName } from '../shared/scaling/env.js';
import { localBase, readJson, UsageError } from './base.js';
import type { Flags } from './main.js';
import { printResult } from './print.js';

interface Capability {
  run(event: unknown, deps: never): Promise<unknown>;
  /** The handler's own wiring; the CLI has no function environment, so it names the stage's state table. */
  wire(base: BaseDeps, env: { STATE_TABLE: string }): unknown;
}

/** Functions `steward invoke` can run; each module exports the same `run` and `wire` the Lambda uses. */
export const functions: Record<string, () => Promise<Capability>> = {
  backup: () => import('../functions/backup/handler.js') as Promise<Capability>,
  retention: () => import('../functions/retention/handler.js') as Promise<Capability>,
};

/** `steward invoke <function> --event <file>`: the real handler core with real SDK clients, locally. */
export const invoke = async ([name]: string[], flags: Flags, out: (s: string) => void): Promise<number> => {
  if (!name) throw new UsageError(`invoke needs a function name (${Object.keys(functions).join(', ')})`);
  const load = functions[name];
  if (!load) throw new UsageError(`unknown function "${name}" (known: ${Object.keys(functions).join(', ')})`);
  if (!flags.event) throw new UsageError('invoke needs --event <file> (samples are in events/)');
  const event = await readJson(flags.event);
  const mod = await load();
  const base = localBase(flags, flags['dry-run'], flags.json ? () => {} : out);
  const result = await mod.run(
    event,
    mod.wire(base, { STATE_TABLE: stateTableName(base.config.stage) }) as never,
  );
  printResult(name, result, flags.json, out);
  return 0;
};
