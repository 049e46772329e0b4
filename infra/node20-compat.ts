// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22+); this machine and CI run Node 20.
// The shim follows the spec'd behaviour and is installed only where the runtime lacks it. Local runs only:
// nothing under functions/ imports it, so no Lambda bundle carries it.
type WithResolvers = <T>() => {
  promise: Promise<T>;
  resolve: (v: T | PromiseLike<T>) => void;
  reject: (e?: unknown) => void;
};

const P = Promise as unknown as { withResolvers?: WithResolvers };
P.withResolvers ??= <T>() => {
  let resolve!: (v: T | PromiseLike<T>) => void;
  let reject!: (e?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

export {};
