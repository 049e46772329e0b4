import { defineConfig } from 'vitest/config';

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
      // Everything else first: these tests record the SDK calls the code makes (test/support/sdk-recorder.ts).
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/iam/**'] } },
      // Then the IAM suite simulates exactly those calls against the synthesized roles.
      {
        extends: true,
        test: { name: 'iam', include: ['test/iam/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
