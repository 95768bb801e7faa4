/**
 * The component of the replica benchmark (`replicas.ts`): one idempotent method that answers
 * at once, except for a share BENCH_STALL_RATIO of calls (default 0) that it holds for
 * BENCH_STALL_MS (default 500) first.
 *
 * @module
 */

import { defineInterface, implement, method, t } from "../../mod.ts";

const ratio = Number(Deno.env.get("BENCH_STALL_RATIO") ?? "0");
const stallMs = Number(Deno.env.get("BENCH_STALL_MS") ?? "500");

/** The benchmark's interface. */
export const Bench = defineInterface("Bench", {
  get: method({ params: { n: t.int }, result: t.int, idempotent: true }),
});

export default implement(Bench, {
  get: async ({ n }, ctx) => {
    if (ratio > 0 && Math.random() < ratio) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, stallMs);
        ctx.signal.addEventListener("abort", () => (clearTimeout(timer), resolve(null)), {
          once: true,
        });
      });
    }
    return n;
  },
});
