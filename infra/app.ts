import { App } from 'aws-cdk-lib';
import { loadStageConfig, stageNames } from '../shared/config/stages.js';
import { ConfigError } from '../shared/errors.js';
import { addAwsSolutionsChecks } from './nag.js';
import { stackId, StewardStack } from './stack.js';

// `cdk synth -c stage=prod` builds one stage; without it every stage gets its own `Steward-<stage>` stack.
// Nothing here looks anything up: synth runs offline, without credentials.
const app = new App();
const requested: unknown = app.node.tryGetContext('stage');

try {
  const stages = requested === undefined ? stageNames : [String(requested)];
  for (const stage of stages) {
    const config = loadStageConfig(stage);
    new StewardStack(app, stackId(config.stage), {
      config,
      configSource: `shared/config/stages/${config.stage}.ts`,
    });
  }
  addAwsSolutionsChecks(app);
  app.synth();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  // The message names every bad field path; a stack trace would only bury it.
  console.error(`${e.name}: ${e.message}`);
  process.exitCode = 1;
}
