import { once } from './once.js';

/**
 * A port whose adapter lives in a module only some triggers need: `region` (and the members in `also`, e.g. a
 * nested deferred port) at once, and each method, when first called, loads the adapter (`load`, a dynamic
 * `import()` of its module, run once and again after a failure: shared/once.ts) and calls it. With the bundles
 * split at `import()`, the adapter's code is parsed only by the invocations that call it. Every other member
 * must be a method returning a promise (the ports of shared/backup/ports.ts); no member is optional (a
 * deferred port claims every method), and the port is not a promise itself.
 */
export const deferredPort = <T extends { readonly region: string }>(
  region: string,
  load: () => Promise<T>,
  also: Partial<T> = {},
): T => {
  const loaded = once(load);
  return new Proxy({ ...also, region } as T, {
    get: (target, p) =>
      p === 'then' || typeof p === 'symbol' || Object.hasOwn(target, p)
        ? Reflect.get(target, p)
        : async (...args: unknown[]) => {
            const port = await loaded();
            return (port[p as keyof T] as (...a: unknown[]) => Promise<unknown>).apply(port, args);
          },
  });
};
