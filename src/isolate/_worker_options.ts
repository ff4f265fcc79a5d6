import { IsolateSpawnError } from "./isolate_spawn_error.ts";

let enabled = false;

/**
 * Throws unless Deno's `--unstable-worker-options` is on. Without it, Deno
 * does not throw when a worker is given permissions: it prints a warning and
 * ends the whole process (exit code 70), which no caller can catch. So it is
 * checked first. Deno offers no API that tells; the process's command line
 * does (readable with `--allow-all`), and `ISOLATES_WORKER_OPTIONS=1` says so
 * where it is not readable (when the flag comes from `deno.json`'s
 * `"unstable": ["worker-options"]`, for instance).
 */
export function assertWorkerOptions(debugName: string): void {
  // Only a yes is kept: the environment may say so later.
  enabled ||= detect();
  if (enabled) return;
  throw new IsolateSpawnError(
    `Cannot sandbox isolate "${debugName}": Deno applies worker permissions only with --unstable-worker-options, and without it ends the process; run with --unstable-worker-options and set ISOLATES_WORKER_OPTIONS=1 (or run with --allow-all), or drop the "permissions" option`,
  );
}

function detect(): boolean {
  // Permissions are queried first: a denied read would otherwise prompt.
  const variable = "ISOLATES_WORKER_OPTIONS";
  if (
    granted({ name: "env", variable }) && Deno.env.get(variable) === "1"
  ) return true;
  const cmdline = `/proc/${Deno.pid}/cmdline`;
  if (!granted({ name: "read", path: cmdline })) return false;
  try {
    const args = Deno.readTextFileSync(`/proc/${Deno.pid}/cmdline`).split(
      "\0",
    );
    return args.some((arg) =>
      arg === "--unstable-worker-options" || arg === "--unstable"
    );
  } catch {
    return false;
  }
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}
