import type { BinaryMessenger } from "./binary_messenger.ts";

/**
 * The isolate layer installs the lookup of the current isolate's default
 * messenger here, so channels (a lower layer) can find it without importing
 * the isolate layer.
 */
let lookup: (() => BinaryMessenger) | null = null;

/** Installs the default-messenger lookup (called once by the isolate layer). */
export function installDefaultMessenger(provider: () => BinaryMessenger): void {
  lookup = provider;
}

/** The current isolate's default messenger. */
export function defaultMessenger(): BinaryMessenger {
  if (lookup === null) {
    throw new Error(
      "Cannot find the default BinaryMessenger: the isolate layer is not loaded; import channels from the module's entry point (mod.ts)",
    );
  }
  return lookup();
}

/**
 * A messenger that cannot reach any handler (a worker that never called
 * `ensureInitialized`) exposes, under this key, the fix to append to the
 * `MissingPluginException` a call through it fails with.
 */
export const missingPluginHint: unique symbol = Symbol("missingPluginHint");

/** The hint of a messenger that cannot reach any handler, if it is one. */
export function hintOf(messenger: unknown): string | undefined {
  const hint =
    (messenger as { [missingPluginHint]?: unknown })[missingPluginHint];
  return typeof hint === "string" ? hint : undefined;
}
