import { exampleStages } from '../support/examples.js';
import { simulateDeployments } from './suite.js';

// The IAM suite (test/iam/suite.ts) on every example stage (examples/steward.<stage>.yaml), beside the other files.
simulateDeployments(exampleStages);
