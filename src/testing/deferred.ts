export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
  /** Whether `resolve` or `reject` has been called. */
  readonly settled: boolean;
}

/** A promise settled from outside: lets a test decide exactly when a tool finishes. */
export function deferred<T = unknown>(): Deferred<T> {
  let settled = false;
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  return {
    promise,
    resolve: (value) => {
      settled = true;
      resolve(value);
    },
    reject: (reason) => {
      settled = true;
      reject(reason);
    },
    get settled() {
      return settled;
    },
  };
}
