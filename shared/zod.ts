// zod/mini: the functional, tree-shakeable zod API (a fraction of classic zod's bundle size and schema
// build time at cold start). Unlike classic zod it registers no locale, so issues would read "Invalid
// input"; register English here so every message stays what classic zod wrote. Import zod from this
// module only, never from 'zod' or 'zod/mini' directly, so the locale is always set before a parse.
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';

/**
 * A schema built on its first use rather than at import: a cold start then pays only for the schemas its
 * invoke parses, not for every trigger its function accepts (about 1.7 ms of CPU at a scheduled backup's cold
 * start, docs/benchmarks.md). It behaves as the schema `build` returns (same type, methods, `instanceof`,
 * nesting in other schemas), so declarations read `export const X = z.onFirstUse(() => z.strictObject({ ... }))`
 * and callers do not change. Each call carries the pure annotation (an `@__PURE__` block comment before
 * `z.onFirstUse`): it lets esbuild drop a declaration the function's bundle never reads (a top-level call is
 * otherwise kept as a possible side effect; esbuild honours an annotation on the function itself only within
 * one module, esbuild#4369).
 */
export const onFirstUse = <S extends object>(build: () => S): S => {
  let schema: S | undefined;
  const built = () => (schema ??= build());
  return new Proxy({} as S, {
    get: (_, key) => Reflect.get(built(), key),
    has: (_, key) => Reflect.has(built(), key),
    set: (_, key, value) => Reflect.set(built(), key, value),
    ownKeys: () => Reflect.ownKeys(built()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(built(), key);
      // A proxy may not report a property as non-configurable that its (empty) target lacks.
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(built()),
  });
};
