import { describe, expect, it } from 'vitest';
import { bytesAbove, survivingInputs } from '../../bench/cold/baselines.js';
import type { Metafile } from '../../bench/cold/deployed.js';

/** A metafile with one output made of `inputs` (path → bytes in the output). */
const meta = (inputs: Record<string, number>): Metafile => ({
  inputs: Object.fromEntries(Object.keys(inputs).map((f) => [f, { bytes: 1 }])),
  outputs: {
    'out/index.mjs': {
      bytes: Object.values(inputs).reduce((a, b) => a + b, 0),
      inputs: Object.fromEntries(Object.entries(inputs).map(([f, b]) => [f, { bytesInOutput: b }])),
    },
    'out/index.mjs.map': { bytes: 10, inputs: {} },
  },
});

describe('bytes above the bare SDK, by origin', () => {
  it("names steward's code, zod, middy, pg and the SDK a baseline also carries", () => {
    // Prepare
    const bare = meta({
      'node_modules/@aws-sdk/client-rds/dist-es/RDSClient.js': 1000,
      'node_modules/@smithy/core/dist-es/index.js': 500,
      '../../tmp/baseline.mjs': 40,
    });
    const steward = meta({
      'node_modules/@aws-sdk/client-rds/dist-es/RDSClient.js': 1100,
      'node_modules/@smithy/core/dist-es/index.js': 500,
      'shared/backup/plan.ts': 300,
      'functions/backup/handler.ts': 20,
      'node_modules/zod/v4/mini/schemas.js': 200,
      'node_modules/@middy/core/index.js': 30,
      'node_modules/pg/lib/client.js': 70,
      'node_modules/pg-protocol/dist/parser.js': 30,
      'node_modules/tree-shaken/index.js': 0,
      'node_modules/left-pad/index.js': 5,
    });

    // Act
    const above = Object.fromEntries(bytesAbove(steward, bare));

    // Assert: the baseline's own entry (40) counts against steward's code
    expect(above).toEqual({ SDK: 100, steward: 280, zod: 200, middy: 30, pg: 100, other: 5 });
  });

  it('counts every chunk of a split bundle, or only the files given (what a trigger loaded)', () => {
    // Prepare: an entry and two chunks; the trigger loaded the entry and one chunk.
    const split: Metafile = {
      inputs: {},
      outputs: {
        'index.mjs': { bytes: 350, inputs: { 'functions/drill/handler.ts': { bytesInOutput: 50 } } },
        'chunk-A.mjs': {
          bytes: 1000,
          inputs: { 'node_modules/@aws-sdk/client-rds/dist-es/RDSClient.js': { bytesInOutput: 1000 } },
        },
        'janitor-B.mjs': { bytes: 300, inputs: { 'shared/drill/janitor.ts': { bytesInOutput: 300 } } },
        'janitor-B.mjs.map': { bytes: 9, inputs: {} },
      },
    };
    const bare = meta({ 'node_modules/@aws-sdk/client-rds/dist-es/RDSClient.js': 1000 });

    // Act
    const whole = Object.fromEntries(bytesAbove(split, bare));
    const loaded = Object.fromEntries(bytesAbove(split, bare, { ours: ['index.mjs', 'chunk-A.mjs'] }));

    // Assert
    expect(whole).toEqual({ SDK: 0, steward: 350 });
    expect(loaded).toEqual({ SDK: 0, steward: 50 });
    expect(survivingInputs(split, ['index.mjs', 'chunk-A.mjs']).sort()).toEqual([
      'functions/drill/handler.ts',
      'node_modules/@aws-sdk/client-rds/dist-es/RDSClient.js',
    ]);
    expect(survivingInputs(split)).toContain('shared/drill/janitor.ts');
    expect(() => survivingInputs(split, ['gone.mjs'])).toThrow(/not outputs of this build: gone\.mjs/);
  });
});
