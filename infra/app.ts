import { App } from 'aws-cdk-lib';
import { addStages } from './stages.js';

// `cdk synth -c config=<file or dir> [-c stage=<name>]`: one `Steward-<stage>` stack per stage config file
// (steward.<stage>.yaml). Nothing here looks anything up: synth runs offline, without credentials.
const app = new App();
const code = addStages(app);
if (code === 0) app.synth();
process.exitCode = code;
