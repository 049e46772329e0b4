import { simulateDeployments } from './suite.js';

// The IAM suite (test/iam/suite.ts) on the config with every branch on (test/iam/full-config.ts), its largest
// deployment, in a file of its own so that vitest runs it beside the others.
simulateDeployments(['full']);
