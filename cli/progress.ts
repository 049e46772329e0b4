/** Where progress goes: stderr, so stdout keeps only results (and --json its one document). */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** After this long a step says it is still running; then every EVERY_MS (a terminal redraws one line). */
const AFTER_MS = 2_000;
const EVERY_MS = 5_000;

/**
 * A running step's progress on `stream`: nothing for a quick step; for a long one `… <label> (12 s)`,
 * redrawn in place on a terminal, a line every 5 s otherwise. `stop()` ends it (and clears the line).
 */
export const progress = (label: string, stream: ProgressStream, now: () => number = Date.now) => {
  const start = now();
  let shown = false;
  const tick = () => {
    const line = `  … ${label} (${Math.round((now() - start) / 1000)} s)`;
    stream.write(stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
    shown = true;
  };
  let timer = setTimeout(function again() {
    tick();
    timer = setTimeout(again, stream.isTTY ? 1_000 : EVERY_MS);
  }, AFTER_MS);
  timer.unref();
  return {
    stop: () => {
      clearTimeout(timer);
      if (shown && stream.isTTY) stream.write('\r\x1b[2K');
    },
  };
};
