/**
 * The isolate's entry module for `background_service.ts`: its default export
 * runs in a worker. It connects to the root isolate with the token, stores
 * its result through SharedPreferences, and sends it back.
 */
import {
  BackgroundIsolateBinaryMessenger,
  type RootIsolateToken,
  type SendPort,
  SharedPreferences,
} from "../mod.ts";

/** What the main thread sends to the isolate. */
export interface IsolateInitData {
  token: RootIsolateToken;
  sendPort: SendPort;
  valueToProcess: number;
}

/** Deliberately slow: fib(n) by plain recursion, to keep a core busy. */
export function heavyFibonacci(n: number): number {
  return n < 2 ? n : heavyFibonacci(n - 1) + heavyFibonacci(n - 2);
}

export default async function backgroundServiceEntryPoint(
  init: IsolateInitData,
): Promise<void> {
  BackgroundIsolateBinaryMessenger.ensureInitialized(init.token);
  const prefs = await SharedPreferences.getInstance();
  console.log(`set() runs: ${SharedPreferences.plugin.placement("set")}`);
  const result = heavyFibonacci(init.valueToProcess);
  await prefs.setInt("last_computation", result);
  init.sendPort.send(result);
}
