import assert from "node:assert/strict";
import { userDataDirectory } from "../../src/plugins/_data_dir.ts";
import { DataDirectoryError } from "../../src/plugins/data_directory_error.ts";
import { IsolatesError } from "../../src/errors/isolates_error.ts";

/** An environment holding exactly `vars`, as `Deno.env.get` would read it. */
function envOf(
  vars: Record<string, string>,
): (name: string) => string | undefined {
  return (name) => Object.hasOwn(vars, name) ? vars[name] : undefined;
}

Deno.test("userDataDirectory() returns ISOLATES_DATA_DIR as is on every platform", () => {
  const env = envOf({
    ISOLATES_DATA_DIR: "relative/dir/../data/",
    XDG_DATA_HOME: "/xdg",
    HOME: "/home/ada",
    APPDATA: "C:\\Users\\ada\\AppData\\Roaming",
  });
  for (const platform of ["linux", "darwin", "windows", "freebsd"] as const) {
    assert.equal(
      userDataDirectory(env, platform),
      "relative/dir/../data/",
      platform,
    );
  }
});

Deno.test("userDataDirectory() ignores an empty ISOLATES_DATA_DIR", () => {
  const env = envOf({ ISOLATES_DATA_DIR: "", HOME: "/home/ada" });
  assert.equal(
    userDataDirectory(env, "linux"),
    "/home/ada/.local/share/isolates",
  );
});

Deno.test("userDataDirectory() uses an absolute XDG_DATA_HOME on Linux and other Unix", () => {
  const env = envOf({ XDG_DATA_HOME: "/data/ada/", HOME: "/home/ada" });
  for (const platform of ["linux", "android", "freebsd", "netbsd"] as const) {
    assert.equal(
      userDataDirectory(env, platform),
      "/data/ada/isolates",
      platform,
    );
  }
});

Deno.test("userDataDirectory() falls back to HOME on Linux when XDG_DATA_HOME is unset, empty or relative", () => {
  for (const xdg of [undefined, "", "relative/share", "~/share"]) {
    const vars: Record<string, string> = { HOME: "/home/ada" };
    if (xdg !== undefined) vars.XDG_DATA_HOME = xdg;
    assert.equal(
      userDataDirectory(envOf(vars), "linux"),
      "/home/ada/.local/share/isolates",
      `XDG_DATA_HOME=${xdg}`,
    );
  }
});

Deno.test("userDataDirectory() uses Application Support on macOS, ignoring XDG_DATA_HOME", () => {
  const env = envOf({ XDG_DATA_HOME: "/xdg", HOME: "/Users/ada" });
  assert.equal(
    userDataDirectory(env, "darwin"),
    "/Users/ada/Library/Application Support/isolates",
  );
});

Deno.test("userDataDirectory() uses APPDATA on Windows", () => {
  const env = envOf({
    APPDATA: "C:\\Users\\ada\\AppData\\Roaming",
    USERPROFILE: "D:\\elsewhere",
    HOME: "/home/ada",
  });
  assert.equal(
    userDataDirectory(env, "windows"),
    "C:\\Users\\ada\\AppData\\Roaming\\isolates",
  );
});

Deno.test("userDataDirectory() falls back to USERPROFILE on Windows when APPDATA is unset or relative", () => {
  for (const appData of [undefined, "", "AppData"]) {
    const vars: Record<string, string> = { USERPROFILE: "C:\\Users\\ada" };
    if (appData !== undefined) vars.APPDATA = appData;
    assert.equal(
      userDataDirectory(envOf(vars), "windows"),
      "C:\\Users\\ada\\AppData\\Roaming\\isolates",
      `APPDATA=${appData}`,
    );
  }
});

Deno.test("userDataDirectory() throws DataDirectoryError naming the variables tried", async (t) => {
  const cases = [
    {
      platform: "linux",
      vars: {},
      tried: ["ISOLATES_DATA_DIR", "XDG_DATA_HOME", "HOME"],
    },
    {
      platform: "linux",
      vars: { ISOLATES_DATA_DIR: "", XDG_DATA_HOME: "rel", HOME: "rel" },
      tried: ["ISOLATES_DATA_DIR", "XDG_DATA_HOME", "HOME"],
    },
    {
      platform: "darwin",
      vars: { XDG_DATA_HOME: "/xdg", APPDATA: "C:\\x" },
      tried: ["ISOLATES_DATA_DIR", "HOME"],
    },
    {
      platform: "windows",
      vars: { HOME: "/home/ada", USERPROFILE: "" },
      tried: ["ISOLATES_DATA_DIR", "APPDATA", "USERPROFILE"],
    },
  ] as const;
  for (const { platform, vars, tried } of cases) {
    await t.step(`on ${platform} with ${JSON.stringify(vars)}`, () => {
      assert.throws(
        () => userDataDirectory(envOf(vars), platform),
        (error: unknown) => {
          assert.ok(error instanceof DataDirectoryError);
          assert.ok(error instanceof IsolatesError);
          assert.equal(error.code, "data_dir_unavailable");
          assert.equal(error.name, "DataDirectoryError");
          assert.equal(error.platform, platform);
          assert.deepEqual(error.variables, tried);
          assert.match(error.message, /^Cannot locate the data directory/);
          assert.match(error.message, /; set ISOLATES_DATA_DIR/);
          for (const name of tried) {
            assert.ok(error.message.includes(`"${name}"`), name);
          }
          return true;
        },
      );
    });
  }
});

Deno.test("userDataDirectory() reads Deno.env and Deno.build.os by default", () => {
  const previous = Deno.env.get("ISOLATES_DATA_DIR");
  const marker = `/tmp/isolates-data-dir-test-${crypto.randomUUID()}`;
  Deno.env.set("ISOLATES_DATA_DIR", marker);
  try {
    assert.equal(userDataDirectory(), marker);
    Deno.env.delete("ISOLATES_DATA_DIR");
    // Without the override the result depends on the host, so compare with
    // an explicit call; a DataDirectoryError counts as a result too.
    const outcome = (find: () => string): string => {
      try {
        return find();
      } catch (error) {
        if (error instanceof DataDirectoryError) return `${error.platform}!`;
        throw error;
      }
    };
    const expected = outcome(() =>
      userDataDirectory((name) => Deno.env.get(name), Deno.build.os)
    );
    assert.equal(outcome(() => userDataDirectory()), expected);
    assert.notEqual(expected, marker);
  } finally {
    if (previous === undefined) Deno.env.delete("ISOLATES_DATA_DIR");
    else Deno.env.set("ISOLATES_DATA_DIR", previous);
  }
});
