/**
 * The component under fuzz: its `forge` posts `count` messages made from `seed` straight
 * to its host (as any code in a worker or component process can), and in a component
 * process sometimes writes raw bytes where the frames go. `hello` answers, to show that a
 * fresh worker serves after whatever came before.
 *
 * @module
 */

import { defineInterface, implement, method, t } from "../../mod.ts";
import { Rng } from "./rng.ts";
import { forgeMessages } from "./component_gen.ts";

export const Forger = defineInterface("Forger", {
  forge: method({ params: { seed: t.int, count: t.int }, result: t.int }),
  hello: method({ result: t.string }),
});

const scope = globalThis as unknown as { postMessage(message: unknown): void };
// Watches what the worker entry posts, as a component can: the ids of calls that began
// are the ones a forged result or start can hit.
const started: number[] = [];
const post = scope.postMessage;
scope.postMessage = (message: unknown) => {
  const m = message as { type?: unknown; id?: unknown };
  if (m?.type === "started" && typeof m.id === "number") {
    started.push(m.id);
    if (started.length > 16) started.shift();
  }
  post.call(globalThis, message);
};
// A component process runs as a main module, with the frames on its stdout.
const inProcess = !("WorkerGlobalScope" in globalThis);

export default implement(Forger, {
  forge: ({ seed, count }) => {
    const rng = new Rng(seed);
    let posted = 0;
    for (const message of forgeMessages(rng, Math.min(count, 1000), started)) {
      if (inProcess && rng.chance(0.01)) {
        Deno.stdout.writeSync(
          rng.chance(0.5) ? rng.bytes(rng.size(64)) : new Uint8Array([0xff, 0xff, 0xff, 0xff]),
        );
      }
      try {
        scope.postMessage(message);
        posted++;
      } catch {
        // not cloneable: a component gets a DataCloneError, the host nothing
      }
    }
    return posted;
  },
  hello: () => "hello",
});
