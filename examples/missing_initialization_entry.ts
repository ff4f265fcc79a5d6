/** The isolate of `missing_initialization.ts`: it skips ensureInitialized. */
import { RootIsolateToken, type SendPort, SharedPreferences } from "../mod.ts";

export default async function entry(reply: SendPort): Promise<void> {
  const tokenInWorker = String(RootIsolateToken.instance);
  try {
    await SharedPreferences.getInstance();
    reply.send({ tokenInWorker, error: "none (unexpected)" });
  } catch (error) {
    reply.send({ tokenInWorker, error: String(error) });
  }
}
