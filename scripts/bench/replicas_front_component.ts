/**
 * The component of `replicas_front.ts`: `Work.run` does `rounds` rounds of integer mixing (a
 * fixed amount of CPU per call, the same as `moleculer/work.js`), public and idempotent.
 *
 * @module
 */

import { defineInterface, implement, method, t } from "../../mod.ts";

/** The benchmark's interface. */
export const Work = defineInterface("Work", {
  run: method({
    params: { rounds: t.int },
    result: t.struct("WorkResult", { x: t.int }),
    public: true,
    idempotent: true,
  }),
});

/** The same mixing as `moleculer/work.js`. */
export function work(rounds: number): number {
  let x = 0x9e3779b9;
  for (let i = 0; i < rounds; i++) x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) + i | 0;
  return x;
}

export default implement(Work, { run: ({ rounds }) => ({ x: work(rounds) }) });
