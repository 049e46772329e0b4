import type { App } from 'aws-cdk-lib';
import { configErrorOf, configLocation, loadStageFiles, renderProblem } from '../shared/config/files.js';
import { BAD_INPUT_EXIT, explainConfigError } from '../shared/errors.js';
import { addAwsSolutionsChecks } from './nag.js';
import { drEventsStackId, DrEventsStack } from './dr-events.js';
import { stackId, StewardStack } from './stack.js';
import { copiesToDr, hasSpokes, spokeTargets } from '../shared/fleet/targets.js';
import {
  SpokeDrStack,
  spokeDrStackId,
  SpokeStack,
  spokeStackId,
  SpokeStackSetStack,
  spokeStackSetStackId,
} from './spoke.js';
import { hasVault, vaultStackId } from '../shared/fleet/vault.js';
import { VaultStack } from './vault.js';
import { verifiesVolumesInDr } from '../shared/drill/ebs-tasks.js';

/**
 * Add one `Steward-<stage>` stack per stage config to `app` (and `Steward-<stage>-dr` in the DR region when
 * a policy copies to DR; `Steward-<stage>-spoke` and, for OU targets, `Steward-<stage>-spokes` for a fleet; `Steward-<stage>-vault` with a backup vault): every `steward.<stage>.yaml` at
 * `-c config=<file or dir>` (default: STEWARD_CONFIG, else ./config), or only `-c stage=<name>`. Every
 * problem of every file is printed and nothing is synthesized when any file is bad. Returns the exit code.
 */
export const addStages = (
  app: App,
  log: (s: string) => void = (s) => console.error(s),
  env: Record<string, string | undefined> = process.env,
): number => {
  const context = (key: string): string | undefined => {
    const v: unknown = app.node.tryGetContext(key);
    return v === undefined ? undefined : String(v);
  };
  const { stages, problems } = loadStageFiles(configLocation(context('config'), env), context('stage'));
  if (problems.length) {
    log(explainConfigError(configErrorOf(problems)));
    log('Nothing was synthesized. Fix the problems above (steward validate checks a file without synth).');
    return BAD_INPUT_EXIT;
  }
  for (const s of stages) {
    for (const w of s.warnings) log(`warning: ${renderProblem(w)}`);
    const stack = new StewardStack(app, stackId(s.stage), { config: s.config, configSource: s.file });
    // DR copies start as others finish: their events are emitted in the DR region and forwarded from there.
    // A verifying EBS drill from the DR copies needs the DR region's verifier network, which lives there too.
    if (
      Object.values(stack.config.backup.policies).some((p) => p.copyToDr) ||
      verifiesVolumesInDr(stack.config)
    )
      new DrEventsStack(app, drEventsStackId(s.stage), { config: stack.config });
    // Hub and spokes: the spoke deploys per target account and region; OU targets get it as a StackSet.
    if (hasSpokes(stack.config)) {
      new SpokeStack(app, spokeStackId(s.stage), { config: stack.config });
      if (copiesToDr(stack.config)) new SpokeDrStack(app, spokeDrStackId(s.stage), { config: stack.config });
      if (spokeTargets(stack.config).some((t) => t.organizationalUnit !== undefined))
        new SpokeStackSetStack(app, spokeStackSetStackId(s.stage), { config: stack.config });
    }
    // The backup vault: deployed into the vault account, once per vault region.
    if (hasVault(stack.config)) new VaultStack(app, vaultStackId(s.stage), { config: stack.config });
  }
  addAwsSolutionsChecks(app);
  return 0;
};
