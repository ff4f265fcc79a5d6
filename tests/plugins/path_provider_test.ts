// PathProvider: Flutter's path_provider directories per OS (a pure table,
// tested with injected environments), the ISOLATES_DATA_DIR override, and
// real calls from the main thread, a worker (local) and a sandboxed worker
// (proxied to the main thread), which must all answer the same.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  DataDirectoryError,
  getApplicationCacheDirectory,
  getDownloadsDirectory,
  Isolate,
  PathProvider,
  type PathProviderMethods,
  PlatformException,
  Plugin,
  type PluginCallTrace,
  ReceivePort,
} from "@isolates/isolates";
import {
  type PathEnvironment,
  type PathKind,
  resolveDirectory,
} from "../../src/plugins/_paths.ts";
import { userDataDirectory } from "../../src/plugins/_data_dir.ts";
import {
  firstFrom,
  freshDataDir,
  guarded,
  rootToken,
  sanitized,
} from "../isolate/_helpers.ts";
import { allPaths, type PathReport } from "./fixtures/path_worker.ts";

const KINDS: PathKind[] = [
  "temporary",
  "applicationSupport",
  "applicationDocuments",
  "applicationCache",
  "downloads",
];

const METHODS: (keyof PathProviderMethods)[] = [
  "getTemporaryDirectory",
  "getApplicationSupportDirectory",
  "getApplicationDocumentsDirectory",
  "getApplicationCacheDirectory",
  "getDownloadsDirectory",
];

/** An environment holding exactly `vars` and `files`. */
function environment(
  os: typeof Deno.build.os,
  vars: Record<string, string>,
  files: Record<string, string> = {},
): PathEnvironment {
  return {
    os,
    env: (name) => Object.hasOwn(vars, name) ? vars[name] : undefined,
    readTextFile: (path) =>
      Object.hasOwn(files, path) ? files[path] : undefined,
  };
}

/** Every kind's path (or `null`) in `env`. */
function table(env: PathEnvironment): Record<PathKind, string | null> {
  return Object.fromEntries(
    KINDS.map((kind) => [kind, resolveDirectory(kind, env)?.path ?? null]),
  ) as Record<PathKind, string | null>;
}

/** Which kinds are created on demand in `env`. */
function created(env: PathEnvironment): PathKind[] {
  return KINDS.filter((kind) => resolveDirectory(kind, env)?.create === true);
}

Deno.test("resolveDirectory() follows XDG on Linux: data, cache and config homes, user-dirs.dirs, TMPDIR", () => {
  const env = environment("linux", {
    HOME: "/home/ada",
    XDG_DATA_HOME: "/xdg/data",
    XDG_CACHE_HOME: "/xdg/cache/",
    XDG_CONFIG_HOME: "/xdg/config",
    TMPDIR: "/var/tmp/ada/",
  }, {
    "/xdg/config/user-dirs.dirs": [
      "# This file is written by xdg-user-dirs-update",
      'XDG_DESKTOP_DIR="$HOME/Desktop"',
      'XDG_DOWNLOAD_DIR="/data/Downloads"',
      'XDG_DOCUMENTS_DIR="$HOME/Dokumente"',
      "",
    ].join("\n"),
  });
  assert.deepEqual(table(env), {
    temporary: "/var/tmp/ada",
    applicationSupport: "/xdg/data/isolates",
    applicationDocuments: "/home/ada/Dokumente",
    applicationCache: "/xdg/cache/isolates",
    downloads: "/data/Downloads",
  });
  assert.deepEqual(created(env), ["applicationSupport", "applicationCache"]);
});

Deno.test("resolveDirectory() falls back to HOME's defaults on Linux and other Unix", () => {
  for (const os of ["linux", "freebsd", "netbsd", "android"] as const) {
    const env = environment(os, { HOME: "/home/ada" });
    assert.deepEqual(table(env), {
      temporary: "/tmp",
      applicationSupport: "/home/ada/.local/share/isolates",
      applicationDocuments: "/home/ada/Documents",
      applicationCache: "/home/ada/.cache/isolates",
      downloads: "/home/ada/Downloads",
    }, os);
  }
});

Deno.test("resolveDirectory() ignores relative XDG homes and reads ~/.config/user-dirs.dirs", () => {
  const env = environment("linux", {
    HOME: "/home/ada",
    XDG_DATA_HOME: "data",
    XDG_CACHE_HOME: "~/cache",
    XDG_CONFIG_HOME: "config",
    TMPDIR: "",
  }, {
    "/home/ada/.config/user-dirs.dirs": 'XDG_DOCUMENTS_DIR="$HOME"\n',
  });
  assert.deepEqual(table(env), {
    temporary: "/tmp",
    applicationSupport: "/home/ada/.local/share/isolates",
    applicationDocuments: "/home/ada",
    applicationCache: "/home/ada/.cache/isolates",
    downloads: "/home/ada/Downloads",
  });
});

Deno.test("resolveDirectory() takes XDG user directories from the environment when user-dirs.dirs has none, and skips invalid entries", () => {
  const env = environment("linux", {
    HOME: "/home/ada",
    XDG_DOCUMENTS_DIR: "/srv/docs",
    XDG_DOWNLOAD_DIR: "relative/downloads",
  }, {
    "/home/ada/.config/user-dirs.dirs": [
      'XDG_DOWNLOAD_DIR="Downloads"', // neither $HOME/… nor absolute
      'XDG_DOWNLOAD_DIR="$HOME/Later wins"',
      'XDG_DOCUMENTS_DIR_EXTRA="/not/this"',
    ].join("\n"),
  });
  assert.equal(table(env).applicationDocuments, "/srv/docs");
  assert.equal(table(env).downloads, "/home/ada/Later wins");
});

Deno.test("resolveDirectory() without HOME on Linux: /tmp, DataDirectoryError naming the variables tried, null downloads", () => {
  const env = environment("linux", {});
  assert.equal(resolveDirectory("temporary", env)?.path, "/tmp");
  assert.equal(resolveDirectory("downloads", env), null);
  const tried: [PathKind, string[]][] = [
    ["applicationSupport", ["ISOLATES_DATA_DIR", "XDG_DATA_HOME", "HOME"]],
    ["applicationDocuments", [
      "ISOLATES_DATA_DIR",
      "XDG_DOCUMENTS_DIR",
      "HOME",
    ]],
    ["applicationCache", ["ISOLATES_DATA_DIR", "XDG_CACHE_HOME", "HOME"]],
  ];
  for (const [kind, variables] of tried) {
    assert.throws(
      () => resolveDirectory(kind, env),
      (error: unknown) =>
        error instanceof DataDirectoryError &&
        error.code === "data_dir_unavailable" && error.platform === "linux" &&
        JSON.stringify(error.variables) === JSON.stringify(variables) &&
        /^Cannot locate the data directory/.test(error.message),
      kind,
    );
  }
});

Deno.test("resolveDirectory() follows macOS: Library folders, ~/Documents, ~/Downloads, TMPDIR, ignoring XDG", () => {
  const env = environment("darwin", {
    HOME: "/Users/ada",
    TMPDIR: "/var/folders/xy/abc/T/",
    XDG_DATA_HOME: "/xdg/data",
    XDG_CACHE_HOME: "/xdg/cache",
    XDG_DOCUMENTS_DIR: "/xdg/docs",
  });
  assert.deepEqual(table(env), {
    temporary: "/var/folders/xy/abc/T",
    applicationSupport: "/Users/ada/Library/Application Support/isolates",
    applicationDocuments: "/Users/ada/Documents",
    applicationCache: "/Users/ada/Library/Caches/isolates",
    downloads: "/Users/ada/Downloads",
  });
  assert.deepEqual(created(env), ["applicationSupport", "applicationCache"]);
  const bare = environment("darwin", {});
  assert.equal(resolveDirectory("temporary", bare)?.path, "/tmp");
  assert.equal(resolveDirectory("downloads", bare), null);
  assert.throws(
    () => resolveDirectory("applicationCache", bare),
    DataDirectoryError,
  );
});

Deno.test("resolveDirectory() follows Windows: APPDATA, LOCALAPPDATA, the profile's known folders, TMP", () => {
  const env = environment("windows", {
    USERPROFILE: "C:\\Users\\ada",
    APPDATA: "C:\\Users\\ada\\AppData\\Roaming",
    LOCALAPPDATA: "C:\\Users\\ada\\AppData\\Local",
    TMP: "C:\\Users\\ada\\AppData\\Local\\Temp\\",
    TEMP: "C:\\Temp",
    HOME: "/home/ignored",
  });
  assert.deepEqual(table(env), {
    temporary: "C:\\Users\\ada\\AppData\\Local\\Temp",
    applicationSupport: "C:\\Users\\ada\\AppData\\Roaming\\isolates",
    applicationDocuments: "C:\\Users\\ada\\Documents",
    applicationCache: "C:\\Users\\ada\\AppData\\Local\\isolates",
    downloads: "C:\\Users\\ada\\Downloads",
  });
  assert.deepEqual(created(env), ["applicationSupport", "applicationCache"]);
});

Deno.test("resolveDirectory() on Windows falls back as GetTempPath and the profile do", () => {
  const profileOnly = environment("windows", { USERPROFILE: "C:\\Users\\ada" });
  assert.deepEqual(table(profileOnly), {
    temporary: "C:\\Users\\ada",
    applicationSupport: "C:\\Users\\ada\\AppData\\Roaming\\isolates",
    applicationDocuments: "C:\\Users\\ada\\Documents",
    applicationCache: "C:\\Users\\ada\\AppData\\Local\\isolates",
    downloads: "C:\\Users\\ada\\Downloads",
  });
  assert.equal(
    resolveDirectory("temporary", environment("windows", { TEMP: "D:\\t" }))
      ?.path,
    "D:\\t",
  );
  assert.equal(
    resolveDirectory(
      "temporary",
      environment("windows", { SystemRoot: "D:\\Windows" }),
    )?.path,
    "D:\\Windows",
  );
  const bare = environment("windows", {});
  assert.equal(resolveDirectory("temporary", bare)?.path, "C:\\Windows");
  assert.equal(resolveDirectory("downloads", bare), null);
  assert.throws(
    () => resolveDirectory("applicationCache", bare),
    (error: unknown) =>
      error instanceof DataDirectoryError &&
      error.variables.join() === "ISOLATES_DATA_DIR,LOCALAPPDATA,USERPROFILE",
  );
});

Deno.test("resolveDirectory() with ISOLATES_DATA_DIR puts every directory but the temporary one under it, created", () => {
  const cases: [typeof Deno.build.os, string, Record<PathKind, string>][] = [
    ["linux", "/data/app", {
      temporary: "/tmp",
      applicationSupport: "/data/app",
      applicationDocuments: "/data/app/documents",
      applicationCache: "/data/app/cache",
      downloads: "/data/app/downloads",
    }],
    ["darwin", "/data/app", {
      temporary: "/tmp",
      applicationSupport: "/data/app",
      applicationDocuments: "/data/app/documents",
      applicationCache: "/data/app/cache",
      downloads: "/data/app/downloads",
    }],
    ["windows", "D:\\app", {
      temporary: "C:\\Users\\ada", // GetTempPath's USERPROFILE step
      applicationSupport: "D:\\app",
      applicationDocuments: "D:\\app\\documents",
      applicationCache: "D:\\app\\cache",
      downloads: "D:\\app\\downloads",
    }],
  ];
  for (const [os, dir, expected] of cases) {
    const env = environment(os, {
      ISOLATES_DATA_DIR: dir,
      HOME: "/home/ada",
      XDG_DATA_HOME: "/xdg/data",
      USERPROFILE: "C:\\Users\\ada",
    });
    assert.deepEqual(table(env), expected, os);
    assert.deepEqual(created(env), KINDS.slice(1), os);
  }
  // An empty override is no override.
  const empty = environment("linux", {
    ISOLATES_DATA_DIR: "",
    HOME: "/home/ada",
  });
  assert.equal(table(empty).applicationCache, "/home/ada/.cache/isolates");
});

Deno.test("resolveDirectory() agrees with SharedPreferences on the support directory in every environment", () => {
  const envs = [
    environment("linux", { HOME: "/home/ada", XDG_DATA_HOME: "/x" }),
    environment("linux", { HOME: "/home/ada", XDG_DATA_HOME: "rel" }),
    environment("darwin", { HOME: "/Users/ada" }),
    environment("windows", { USERPROFILE: "C:\\Users\\ada" }),
    environment("windows", { APPDATA: "E:\\Roaming" }),
    environment("freebsd", { ISOLATES_DATA_DIR: "relative/dir/" }),
  ];
  for (const env of envs) {
    assert.equal(
      resolveDirectory("applicationSupport", env)?.path,
      userDataDirectory(env.env, env.os),
    );
  }
});

/** Sets (or deletes, for `undefined`) variables until disposed. */
function withEnv(vars: Record<string, string | undefined>): Disposable {
  const previous = Object.fromEntries(
    Object.keys(vars).map((name) => [name, Deno.env.get(name)]),
  );
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  };
  apply(vars);
  return { [Symbol.dispose]: () => apply(previous) };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("getApplicationSupportDirectory() and the others answer ISOLATES_DATA_DIR's folders on the main thread, and create them", async () => {
  await using data = await freshDataDir("isolates_paths_", "data");
  const { dir } = data;
  assert.equal(await isDirectory(dir), false);
  const traces: PluginCallTrace[] = [];
  const stop = Plugin.addCallListener((trace) => traces.push(trace));
  const paths = await allPaths();
  stop();
  assert.deepEqual(paths, {
    getTemporaryDirectory: resolveDirectory("temporary", {
      os: Deno.build.os,
      env: (name) => Deno.env.get(name),
      readTextFile: () => undefined,
    })!.path,
    getApplicationSupportDirectory: dir,
    getApplicationDocumentsDirectory: join(dir, "documents"),
    getApplicationCacheDirectory: join(dir, "cache"),
    getDownloadsDirectory: join(dir, "downloads"),
  });
  for (const path of Object.values(paths)) {
    assert.ok(await isDirectory(path!), `${path} is a directory`);
  }
  assert.deepEqual(
    traces.map((t) => [t.method, t.placement, t.isolate, t.ok]),
    METHODS.map((method) => [method, "local", "0", true]),
  );
  // The class's statics are the same functions.
  assert.equal(
    await PathProvider.getApplicationCacheDirectory(),
    join(dir, "cache"),
  );
  assert.equal(
    await PathProvider.getTemporaryDirectory(),
    paths.getTemporaryDirectory,
  );
  assert.equal(await PathProvider.getApplicationSupportDirectory(), dir);
  assert.equal(
    await PathProvider.getApplicationDocumentsDirectory(),
    join(dir, "documents"),
  );
  assert.equal(
    await PathProvider.getDownloadsDirectory(),
    join(dir, "downloads"),
  );
  assert.equal(PathProvider.plugin.channel, "plugins.flutter.io/path_provider");
  assert.equal(PathProvider.plugin.affinity, "auto");
});

Deno.test({
  name:
    "getApplicationDocumentsDirectory() and the others follow XDG on Linux without ISOLATES_DATA_DIR",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "isolates_xdg_" });
    try {
      await Deno.mkdir(join(root, "config"));
      await Deno.writeTextFile(
        join(root, "config", "user-dirs.dirs"),
        `XDG_DOCUMENTS_DIR="$HOME/Docs"\nXDG_DOWNLOAD_DIR="${root}/dl"\n`,
      );
      using _ = withEnv({
        ISOLATES_DATA_DIR: undefined,
        HOME: join(root, "home"),
        XDG_DATA_HOME: join(root, "data"),
        XDG_CACHE_HOME: join(root, "cache"),
        XDG_CONFIG_HOME: join(root, "config"),
        TMPDIR: `${root}/`,
      });
      assert.deepEqual(await allPaths(), {
        getTemporaryDirectory: root,
        getApplicationSupportDirectory: join(root, "data", "isolates"),
        getApplicationDocumentsDirectory: join(root, "home", "Docs"),
        getApplicationCacheDirectory: join(root, "cache", "isolates"),
        getDownloadsDirectory: join(root, "dl"),
      });
      // Support and cache are created; the user's folders are not.
      assert.ok(await isDirectory(join(root, "data", "isolates")));
      assert.ok(await isDirectory(join(root, "cache", "isolates")));
      assert.equal(await isDirectory(join(root, "home", "Docs")), false);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "getApplicationCacheDirectory() rejects with PlatformException data_dir_unavailable when no variable locates it",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    using _ = withEnv({
      ISOLATES_DATA_DIR: undefined,
      XDG_CACHE_HOME: "relative",
      XDG_CONFIG_HOME: undefined,
      XDG_DOWNLOAD_DIR: undefined,
      HOME: "relative",
    });
    await assert.rejects(
      getApplicationCacheDirectory(),
      (error: unknown) =>
        error instanceof PlatformException &&
        error.code === "data_dir_unavailable" &&
        /^Cannot locate the data directory/.test(error.message ?? "") &&
        Array.isArray(error.details) && error.details.includes("HOME"),
    );
    assert.equal(await getDownloadsDirectory(), null);
  },
});

Deno.test("getApplicationCacheDirectory() rejects with PlatformException directory_unavailable when it cannot be created", async () => {
  const root = await Deno.makeTempDir({ prefix: "isolates_paths_" });
  try {
    const file = join(root, "a file");
    await Deno.writeTextFile(file, "");
    using _ = withEnv({ ISOLATES_DATA_DIR: file });
    await assert.rejects(
      getApplicationCacheDirectory(),
      (error: unknown) =>
        error instanceof PlatformException &&
        error.code === "directory_unavailable" &&
        error.details === join(file, "cache") &&
        /^Cannot create the application cache directory ".*"/.test(
          error.message ?? "",
        ),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Spawns the path fixture and waits for its report and its end. */
async function reportFrom(
  permissions?: Deno.PermissionOptions,
): Promise<PathReport> {
  const port = new ReceivePort("paths");
  let isolate: Isolate;
  try {
    isolate = await Isolate.spawn(
      new URL("./fixtures/path_worker.ts", import.meta.url),
      { token: rootToken(), reply: port.sendPort },
      { debugName: "paths", permissions },
    );
  } catch (error) {
    port.close();
    throw error;
  }
  const report = await firstFrom<PathReport>(port, isolate);
  assert.equal((await isolate.exited).kind, "normal");
  return report;
}

Deno.test({
  name:
    "PathProvider from a worker runs locally and answers what the main thread answers",
  ...sanitized,
  fn: guarded(async () => {
    await using _ = await freshDataDir("isolates_paths_", "data");
    const served: PluginCallTrace[] = [];
    const stop = Plugin.addCallListener((trace) => served.push(trace));
    const report = await reportFrom();
    stop();
    assert.deepEqual(report.paths, await allPaths());
    assert.equal(report.env, "granted");
    for (const method of METHODS) {
      assert.equal(report.placements[method], "local", method);
    }
    assert.deepEqual(
      report.traces.map((t) => [t.method, t.placement, t.isolate, t.served]),
      METHODS.map((method) => [method, "local", report.id, false]),
    );
    // Nothing reached the main thread.
    assert.deepEqual(served.filter((t) => t.isolate === report.id), []);
  }),
});

Deno.test({
  name:
    "PathProvider from a sandboxed worker (no env access) is proxied to the main thread with the same answers",
  ...sanitized,
  fn: guarded(async () => {
    await using _ = await freshDataDir("isolates_paths_", "data");
    using _options = withEnv({ ISOLATES_WORKER_OPTIONS: "1" });
    const served: PluginCallTrace[] = [];
    const stop = Plugin.addCallListener((trace) => served.push(trace));
    const report = await reportFrom({
      env: false,
      read: false,
      write: false,
      net: false,
      run: false,
      ffi: false,
      sys: false,
    });
    stop();
    assert.deepEqual(report.paths, await allPaths());
    assert.notEqual(report.env, "granted");
    for (const method of METHODS) {
      assert.equal(report.placements[method], "proxied", method);
    }
    assert.deepEqual(
      report.traces.map((t) => [t.method, t.placement, t.served, t.ok]),
      METHODS.map((method) => [method, "proxied", false, true]),
    );
    // The main thread served each call, for that worker.
    assert.deepEqual(
      served.filter((t) => t.isolate === report.id).map((t) => [
        t.method,
        t.placement,
        t.served,
      ]),
      METHODS.map((method) => [method, "proxied", true]),
    );
  }),
});
