// deno-lint-ignore-file explicit-module-boundary-types -- plain JS for Node: types are in JSDoc
/**
 * The tasks every side of the peers bench runs, from this one file: piscina
 * and tinypool load it in their Node workers (`{ name: "fib" }`), IsolatePool
 * as a module task (`{ module, exportName: "fib" }`), and each runtime's
 * single-thread baseline imports it. The same source as `pool_bench.ts`.
 */

/**
 * The n-th Fibonacci number, computed the slow way (CPU work).
 *
 * @param {number} n
 * @returns {number}
 */
export const fib = (n) => {
  /** @type {(k: number) => number} */
  const f = (k) => (k < 2 ? k : f(k - 1) + f(k - 2));
  return f(n);
};

/**
 * The tiny task: almost no work, so its time is the pool's overhead.
 *
 * @param {number} x
 * @returns {number}
 */
export const inc = (x) => x + 1;

export default fib;
