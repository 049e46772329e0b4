import { describe, expect, it, vi } from 'vitest';
import { splitBuildModules } from '../../support/split-build.js';
import { run, type ReportDeps } from '../../../functions/report/handler.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import type { Snapshot } from '../../../shared/model.js';
import {
  EVIDENCE_NOW,
  evidenceConfig,
  evidenceHistory,
  evidenceInputs,
} from '../../fakes/evidence-estate.js';
import { fixedEstate } from '../../fakes/report.js';
import evidenceEvent from '../../../events/report/evidence.json' with { type: 'json' };
import statusEvent from '../../../events/report/status-check.json' with { type: 'json' };

// The daily status check is the report function's usual cold start: it judges the estate and notifies what
// changed, and never renders the monthly evidence. Two proofs that it does not load the evidence code: the
// modules a run imports (each deferred module records its first import), and the bundle as esbuild splits it.

/** The modules only the monthly evidence run needs. */
const DEFERRED = {
  monthly: 'shared/report/monthly.ts',
  evidence: 'shared/report/evidence.ts',
  render: 'shared/report/render.ts',
} as const;

const { loaded } = vi.hoisted(() => ({ loaded: new Set<string>() }));
// vi.mock is hoisted and takes literal paths: each deferred module, as it is, noting its first import.
vi.mock('../../../shared/report/monthly.js', async (real) => (loaded.add('monthly'), real()));
vi.mock('../../../shared/report/evidence.js', async (real) => (loaded.add('evidence'), real()));
vi.mock('../../../shared/report/render.js', async (real) => (loaded.add('render'), real()));

/** Deps over the evidence fixture, its drills and retention records filed in a memory bucket. */
const deps = (now = EVIDENCE_NOW): ReportDeps => {
  const inputs = evidenceInputs();
  return {
    config: evidenceConfig,
    dryRun: false,
    notifier: memoryNotifier(),
    now: () => now,
    estate: {
      config: evidenceConfig,
      primary: fixedEstate('eu-west-1', [...inputs.databases], [...inputs.snapshots] as Snapshot[]),
      dr: fixedEstate('us-west-2', [], [...inputs.drSnapshots]),
      history: evidenceHistory(inputs),
      now: () => now,
    },
  };
};

// In order: a module stays imported for the rest of the file.
describe('the modules a report run imports', () => {
  it('the status check imports none of the evidence modules', async () => {
    // Act
    const r = await run(statusEvent, deps());

    // Assert
    expect(r.action).toBe('status-check');
    expect([...loaded]).toEqual([]);
  });

  it('the evidence run imports them (control: the record can see an import)', async () => {
    // Act
    const r = await run(evidenceEvent, deps());

    // Assert
    expect(r).toMatchObject({ action: 'evidence', month: '2026-11' });
    expect([...loaded].sort()).toEqual(['evidence', 'monthly', 'render']);
  });
});

describe('the report bundle, split at its dynamic imports', () => {
  it('keeps the evidence modules out of the chunks its entry loads at a cold start, and still ships each', async () => {
    // Act: the shipped settings with code splitting, as the function's chunks are built.
    const { cold, shipped } = await splitBuildModules('functions/report/handler.ts');

    // Assert
    expect(cold.has('shared/report/status.ts')).toBe(true);
    expect(Object.values(DEFERRED).filter((m) => cold.has(m))).toEqual([]);
    expect(Object.values(DEFERRED).filter((m) => !shipped.has(m))).toEqual([]);
  });
});
