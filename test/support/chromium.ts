import { existsSync } from 'node:fs';

/** Debian's chromium, which `.ci/run` installs when absent. */
export const CHROMIUM = process.env.STEWARD_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Headless and quiet: no sandbox (tests run as root), no GPU, and nothing that phones home (no QUIC, no
 * background networking, no component updates, no sync), so the only network a page makes is its own.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The browser tests never skip: without chromium they fail, saying how to get it (`.ci/run` installs it). */
export const chromiumAvailable = (what: string): boolean => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${what} needs ${CHROMIUM}: apt-get install chromium (or set STEWARD_CHROMIUM)`);
  return true;
};
