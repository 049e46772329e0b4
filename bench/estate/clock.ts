import { AsyncLocalStorage } from 'node:async_hooks';

/** What a simulated timer runs, and in whose name (the run that scheduled it). */
interface Timer {
  at: number;
  seq: number;
  fire: () => void;
  owner: unknown;
  cleared: boolean;
}

/** A timer handle as Node's `setTimeout` returns it (the SDK calls `unref` on some). */
interface Handle {
  timer: Timer;
  ref(): Handle;
  unref(): Handle;
  hasRef(): boolean;
  [Symbol.toPrimitive](): number;
}

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realDateNow = Date.now;

/**
 * A simulated clock for the whole process: while installed, `setTimeout`, `clearTimeout` and `Date.now`
 * run on simulated time, so the SDK's retry back-off and adaptive rate limiter, the fake AWS's latency and
 * every schedule advance it, and a day passes in milliseconds. `run` fires timers in time order and lets
 * every promise chain settle between two timers. Each timer remembers the run that scheduled it
 * (`owner`, an AsyncLocalStorage store), so the time the thread spends between two timers (the code that
 * timer resumed, to its next wait) is charged to that run: its compute time, as `cpu`. (Thread time, read
 * with `performance.now()`: `process.cpuUsage()` per timer costs more than the work it would measure.)
 */
export class SimClock {
  now: number;
  private heap: Timer[] = [];
  private seq = 0;
  private installed = false;
  /** The run (or other owner) the current code works for; see `within`. */
  readonly context = new AsyncLocalStorage<unknown>();
  /** CPU microseconds charged to each owner by `run`. */
  readonly cpu = new Map<unknown, number>();
  /** Set to make `run` return at once: a watchdog's way to end a simulation early. */
  halted = false;
  /** Called every 1 000 timers (real time passes even when simulated time does not). */
  watchdog?: () => void;
  private fired = 0;

  constructor(start: number) {
    this.now = start;
  }

  /** Schedule `f` at `now + ms` (simulated), in the current owner's name. */
  at(ms: number, f: () => void): Handle {
    const owner = this.context.getStore();
    const timer: Timer = {
      at: this.now + Math.max(0, Number.isFinite(ms) ? ms : 0),
      seq: this.seq++,
      // The callback runs as the owner that scheduled it, as Node's own timers keep async context.
      fire: () => this.context.run(owner, f),
      owner,
      cleared: false,
    };
    this.push(timer);
    const handle: Handle = {
      timer,
      ref: () => handle,
      unref: () => handle,
      hasRef: () => true,
      [Symbol.toPrimitive]: () => timer.seq,
    };
    return handle;
  }

  /** Sleep `ms` of simulated time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.at(ms, resolve));
  }

  /** Run `f` as `owner`: timers it schedules, and the CPU they take, are charged to `owner`. */
  within<T>(owner: unknown, f: () => T): T {
    return this.context.run(owner, f);
  }

  install(): void {
    if (this.installed) return;
    this.installed = true;
    const g = globalThis as unknown as Record<string, unknown>;
    // As Node does: a delay is truncated to whole milliseconds, and under 1 (or past 2^31 - 1) becomes 1.
    g.setTimeout = (f: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const n = Math.trunc(Number(ms));
      return this.at(n >= 1 && n <= 2_147_483_647 ? n : 1, () => f(...args));
    };
    g.clearTimeout = (h: unknown) => {
      if (h && typeof h === 'object' && 'timer' in h) (h as Handle).timer.cleared = true;
      else realClearTimeout(h as Parameters<typeof clearTimeout>[0]);
    };
    Date.now = () => Math.floor(this.now);
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    globalThis.setTimeout = realSetTimeout;
    globalThis.clearTimeout = realClearTimeout;
    Date.now = realDateNow;
  }

  /**
   * Fire every timer due up to `until` (simulated ms), in time order, letting promise chains settle after
   * each. Ends at `until` with the clock there, or earlier when nothing is left to fire.
   */
  async run(until: number): Promise<void> {
    while (!this.halted) {
      await settle();
      const t = this.pop(until);
      if (!t) break;
      this.now = Math.max(this.now, t.at);
      if (++this.fired % 1000 === 0) this.watchdog?.();
      const before = performance.now();
      t.fire();
      await settle();
      this.cpu.set(t.owner, (this.cpu.get(t.owner) ?? 0) + (performance.now() - before) * 1000);
    }
    if (!this.halted) this.now = Math.max(this.now, until);
  }

  /** Timers not yet fired (cleared ones excluded). */
  pending(): number {
    return this.heap.filter((t) => !t.cleared).length;
  }

  private pop(until: number): Timer | undefined {
    while (this.heap.length) {
      const top = this.heap[0]!;
      if (top.at > until) return undefined;
      this.shift();
      if (!top.cleared) return top;
    }
    return undefined;
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private shift(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (!h.length) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** Let every queued promise continuation run: a real macrotask comes only after the microtask queue is empty. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A client's first request reads its configuration (shared config files for the endpoint, retry mode...)
 * with real file I/O, which simulated time does not wait for: send one request per client first, letting
 * real time pass until each has its answer.
 */
export const warmUp = async (
  clock: SimClock,
  sends: (() => Promise<unknown>)[],
  o: { tries?: number; pauseMs?: number } = {},
): Promise<void> => {
  let left = sends.length;
  for (const send of sends) void send().finally(() => left--);
  for (let i = 0; left > 0; i++) {
    if (i > (o.tries ?? 1000))
      throw new Error('the simulated AWS clients did not answer their first request');
    await clock.run(clock.now + 1_000);
    await new Promise((resolve) => realSetTimeout(resolve, o.pauseMs ?? 5));
  }
};
