/**
 * Switchboard inside a component worker: the runtime-free core, and for every other
 * export (servers, transports) a stand-in that explains why it is not there.
 *
 * @module
 */

import * as core from "./core.ts";
import { publishLibrary } from "../load/shim.ts";

/** Publishes the worker's library (idempotent). */
export function publishWorkerLibrary(): void {
  const stubs = new Map<string, unknown>();
  publishLibrary(
    new Proxy(core, {
      get(target, name) {
        if (typeof name !== "string" || name in target) {
          return (target as Record<string | symbol, unknown>)[name];
        }
        let stub = stubs.get(name);
        if (!stub) {
          stub = function unavailable() {
            throw new Error(
              `${name} (from @switchboard/rpc) is not available inside a worker component; ` +
                `call other interfaces through ctx.client`,
            );
          };
          stubs.set(name, stub);
        }
        return stub;
      },
    }),
  );
}
