// aws-local-stepfunctions 3.x uses Promise.withResolvers (Node 22+). Without it, on Node 20, every
// Task state throws a TypeError that `Catch: States.ALL` swallows: the run "works" and proves
// nothing. This must load before the library runs a state.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
