import type { StewardConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { assessEstate, type EstateInputs } from './health.js';
import { latestDrills } from './history.js';
import type { EstateStatus } from './model.js';
import type { EstateReader, HistoryStore, ScalingReader } from './ports.js';

/** What a status read needs; the Lambda, the CLI and the sandbox's history wire the same shape. */
export interface StatusDeps {
  config: StewardConfig;
  primary: EstateReader;
  /** The DR region's snapshots; only read when a backup policy copies there. */
  dr?: EstateReader;
  /** The report bucket; without it drill history is unknown (and said so). */
  history?: HistoryStore;
  /** The state table; without it scaling state is not shown. */
  scaling?: ScalingReader;
  now: () => Date;
  /** Caveats found while wiring (e.g. the report bucket could not be named); shown with the result. */
  notes?: string[];
}

/**
 * Read everything status judges, within the API budget: per region one paginated describe per kind of
 * database and snapshot, one listing of drill reports plus one GET per drilled database, one Scan of the
 * state table. Databases and snapshots must be read; drill history and scaling state degrade to a note.
 */
export const readEstate = async (deps: StatusDeps): Promise<EstateInputs> => {
  const { config } = deps;
  const notes: string[] = [...(deps.notes ?? [])];
  const copies = Object.values(config.backup.policies).some((p) => p.copyToDr);
  const soft = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (e) {
      notes.push(`${what} unreadable: ${errorMessage(e)}`);
      return undefined;
    }
  };
  const [databases, snapshots, drSnapshots, drills, scaling] = await Promise.all([
    deps.primary.databases(),
    deps.primary.snapshots(),
    copies && deps.dr ? deps.dr.snapshots() : Promise.resolve([]),
    deps.history
      ? soft(`drill history (${deps.history.location})`, () => latestDrills(deps.history!, notes))
      : Promise.resolve(undefined),
    config.scaling.enabled && deps.scaling
      ? soft('scaling state', () => deps.scaling!.scalingState())
      : Promise.resolve([]),
  ]);
  if (!deps.history && config.drill.enabled) notes.push('no report bucket given: drill history unknown');
  return {
    databases,
    snapshots,
    drSnapshots,
    ...(drills ? { drills } : {}),
    scaling: scaling ?? [],
    notes,
  };
};

/** `steward status`: read the estate and judge every database. */
export const runStatus = async (deps: StatusDeps): Promise<EstateStatus> =>
  assessEstate(await readEstate(deps), deps.config, deps.now());
