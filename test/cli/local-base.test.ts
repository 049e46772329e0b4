import { describe, expect, it } from 'vitest';
import { localBase } from '../../cli/base.js';
import { wire } from '../../functions/cost/handler.js';
import type { CostEnv } from '../../shared/cost/env.js';

describe("a local run's dry run", () => {
  it("previews in a dry run, --dry-run or the stage's: it prints instead of publishing, so it claims nothing", () => {
    // Prepare: the dev example runs in dry run (dryRun: true), staging acts.
    const out = () => undefined;
    const dev = { config: 'examples', stage: 'dev', json: true };
    const staging = { config: 'examples', stage: 'staging', json: true };

    // Act
    const flagged = localBase(staging, true, out);
    const devStage = localBase(dev, false, out);
    const live = localBase(staging, false, out);

    // Assert: the cost function, wired from it, previews (claims and sends nothing) in the first two.
    const env = { STATE_TABLE: 'steward-test-state' } as CostEnv;
    expect(wire(flagged, env)).toMatchObject({ dryRun: true, preview: true });
    expect(wire(devStage, env)).toMatchObject({ dryRun: true, preview: true });
    expect(wire(live, env)).toMatchObject({ dryRun: false, preview: true });
  });

  it('previews in a live stage too: a local run publishes nothing, so it must not record an alert as told', () => {
    // Prepare: staging acts (no dry run), and no --dry-run.
    const base = localBase({ config: 'examples', stage: 'staging', json: true }, false, () => undefined);
    // Assert: it still acts (dryRun false), but whatever only notifies is a preview (cost's claims, the
    // status check's memory of open conditions): the deployed function must still send them.
    expect(base).toMatchObject({ dryRun: false, preview: true });
  });
});
