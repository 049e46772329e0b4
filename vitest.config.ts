import { defineConfig } from 'vitest/config';

/**
 * The test files that synthesize stacks. Each loaded aws-cdk-lib (seconds) and, at its first synthesis, started
 * CDK's CloudFormation validation engine (about 6 s of CPU) in a process of its own; in one process per worker
 * they pay both once. They share nothing else: no SDK client stays mocked after its file, none changes the
 * environment, and the SDK call recorder keeps one list per process (test/support/sdk-recorder.ts).
 */
const CDK = ['test/infra/**/*.test.ts', 'test/functions/scaling/scale-in-fleet.test.ts'];

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the CPUs: on CI's 2 cores that is one file at a time, and the
    // suite took 15.4 min of CI's 15 (clean clone, idle). Test files are hermetic (own ports, temp dirs, calls
    // recorded per file), so they run two at a time.
    maxWorkers: 2,
    projects: [
      // These two first: their tests record the SDK calls the code makes (test/support/sdk-recorder.ts).
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...CDK, 'test/iam/**'] },
      },
      // The tests that synthesize stacks, one process per worker for all of them (`isolate: false`).
      { extends: true, test: { name: 'cdk', include: CDK, isolate: false } },
      // Then the IAM suite simulates exactly those calls against the synthesized roles. Its files synthesize stacks
      // too and read the same Service Authorization Reference: one process per worker (`isolate: false`) loads
      // aws-cdk-lib, CDK's validation engine and iam-data once. They share nothing else (no environment change,
      // the one SDK-mocking file restores its mocks).
      {
        extends: true,
        test: {
          name: 'iam',
          include: ['test/iam/**/*.test.ts'],
          isolate: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
