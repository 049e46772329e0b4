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

/** Whether the browser tests run here; CI must have chromium (it fails there rather than skip). */
export const chromiumAvailable = (what: string): boolean => {
  const ok = existsSync(CHROMIUM);
  if (!ok && process.env.CI === 'true') throw new Error(`CI needs ${CHROMIUM} for ${what}`);
  return ok;
};
