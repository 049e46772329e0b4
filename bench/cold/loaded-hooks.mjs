// The module hooks bench/cold/loaded-hook.mjs registers (they run on Node's hooks thread): each file: URL
// loaded, one a line, appended as it loads.
import { appendFileSync } from 'node:fs';

let log;

export const initialize = (data) => {
  log = data?.log;
  if (!log) throw new Error('loaded-hooks: no log file (STEWARD_LOADED_LOG)');
};

export const load = async (url, context, next) => {
  if (url.startsWith('file:')) appendFileSync(log, `${url}\n`);
  return next(url, context);
};
