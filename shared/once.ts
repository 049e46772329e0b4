/**
 * `load`, run by the first call only: every later call returns the first call's promise. For a module loaded
 * on first use, `const loadX = once(() => import('./x.js'))` at the top of the module and `await loadX()` at
 * each use: an `import()` call resolves again through the module loader at every call, this resolves once
 * per container. esbuild still splits the bundle at the `import()`. A rejection is not kept: the call that
 * sees it clears it, and the next call runs `load` again (a failed import, or a failed first build of an
 * adapter, is retried by the next invocation rather than served until the container is recycled).
 */
export const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((e: unknown) => {
      loading = undefined;
      throw e;
    }));
};
