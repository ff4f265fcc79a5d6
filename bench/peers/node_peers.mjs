// deno-lint-ignore-file explicit-function-return-type -- plain JS for Node: types are in JSDoc
/**
 * The Node side of the peers bench: piscina and tinypool, 2 threads each,
 * on the tasks of `task.mjs`, timed by `method.mjs`. Prints one JSON object
 * (see `Result` there, plus the runtime and load average); progress goes to
 * stderr. Run through `run.sh`, or `node node_peers.mjs [--rounds=N]`.
 */
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { measure, roundsArg, WORKERS } from "./method.mjs";

// The Node packages are imported by resolved URL, not by a static
// `import ... from "piscina"`: `deno check bench/` reaches this file, and
// would fail on bare npm names that the Deno project does not depend on.
const { Piscina } = await import(import.meta.resolve("piscina"));
const { Tinypool } = await import(import.meta.resolve("tinypool"));

const rounds = roundsArg(process.argv.slice(2));
const filename = new URL("./task.mjs", import.meta.url).href;

// Defaults otherwise (piscina: atomics "sync", one task per worker at once;
// tinypool: useAtomics), as a user would start them.
const piscina = new Piscina({
  filename,
  minThreads: WORKERS,
  maxThreads: WORKERS,
});
const tinypool = new Tinypool({
  filename,
  minThreads: WORKERS,
  maxThreads: WORKERS,
});

const fibOptions = { name: "fib" };
const incOptions = { name: "inc" };
const loadAtStart = loadavg()[0];
try {
  const result = await measure(
    [
      {
        name: "piscina",
        fib: (n) => piscina.run(n, fibOptions),
        inc: (x) => piscina.run(x, incOptions),
      },
      {
        name: "tinypool",
        fib: (n) => tinypool.run(n, fibOptions),
        inc: (x) => tinypool.run(x, incOptions),
      },
    ],
    rounds,
    (line) => process.stderr.write(`node: ${line}\n`),
  );
  console.log(JSON.stringify({
    runtime: `node ${process.versions.node}`,
    versions: {
      piscina: await packageVersion("piscina"),
      tinypool: await packageVersion("tinypool"),
    },
    loadAverage: [loadAtStart, loadavg()[0]],
    ...result,
  }));
} finally {
  await Promise.all([piscina.destroy(), tinypool.destroy()]);
}

/**
 * The installed version of a package, from its package.json.
 *
 * @param {string} name
 * @returns {Promise<string>}
 */
async function packageVersion(name) {
  const url = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(await readFile(url, "utf8")).version;
}
