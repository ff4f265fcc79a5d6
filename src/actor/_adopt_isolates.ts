/**
 * Places every isolate under the root supervisor. The isolate layer sits
 * below this one and cannot import it, so it offers a hook
 * (`supervision.adopt`) that this module fills in; `mod.ts` imports it.
 *
 * @module
 */
import { supervision } from "../isolate/isolate.ts";
import { Supervisor } from "./supervisor.ts";

supervision.adopt = (isolate, restart, respawn) => {
  let first = true;
  Supervisor.root.startChild({
    id: isolate.supervisionId,
    // The first start adopts the running isolate; restarts spawn anew with
    // the original entry, message and options.
    start: () => {
      if (first || respawn === null) {
        first = false;
        return isolate;
      }
      return respawn();
    },
    restart,
    // Isolate.stop() ends the worker at once, with reason shutdown.
    shutdown: 5000,
  }).catch((error) => {
    // Only a duplicate id could refuse it, and ids are unique per realm.
    console.error(error);
  });
};
