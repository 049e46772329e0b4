import { readFile } from 'node:fs/promises';
import { configLocation, loadStage, type StageFile } from '../shared/config/files.js';
import { EventShapeError, StewardError } from '../shared/errors.js';
import type { Notification, Notifier } from '../shared/notify/notifier.js';
import { renderNotification } from '../shared/notify/notifier.js';
import type { BaseDeps } from '../shared/runtime.js';

/** A usage mistake on the command line (exit code 2). */
export class UsageError extends StewardError {
  override name = 'UsageError';
}

/** Notifier for local runs: prints what would be published instead of publishing it. */
export const printingNotifier = (
  stage: string,
  out: (s: string) => void,
): Notifier & { sent: Notification[] } => {
  const sent: Notification[] = [];
  return {
    sent,
    send: async (n) => {
      sent.push(n);
      const { subject, message } = renderNotification(n, stage);
      out(`\n[notification → ${n.severity} topic] ${subject}\n${message}\n`);
    },
  };
};

/** The stage a command works on: `--config <file or dir>` (default STEWARD_CONFIG, else ./config) and `--stage`. */
export const stageConfig = (flags: { config?: string; stage?: string }): StageFile =>
  loadStage(configLocation(flags.config), flags.stage);

/** Base deps for a local run: the stage's config, real clock, a printing notifier. */
export const localBase = (
  flags: { config?: string; stage?: string },
  dryRun: boolean,
  out: (s: string) => void,
): BaseDeps => {
  const { config } = stageConfig(flags);
  return {
    config,
    dryRun: dryRun || config.dryRun,
    notifier: printingNotifier(config.stage, out),
    now: () => new Date(),
  };
};

/** Read and parse a JSON file, naming the file in any error. */
export const readJson = async (path: string): Promise<unknown> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EventShapeError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
};
