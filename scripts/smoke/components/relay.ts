/**
 * Smoke-test component: calls Greeter through `ctx.client`, wherever the deployment put it.
 * Imports its sibling relatively, so loading it over http: fetches a module graph.
 */

import { defineInterface, implement, method, t } from "@switchboard/rpc";
import { Greeter } from "./greeter.ts";

export const Relay = defineInterface("Relay", {
  greet: method({ params: { name: t.string }, result: t.string, public: true }),
  greeterPid: method({ result: t.int, public: true }),
});

export default implement(Relay, {
  greet: async ({ name }, ctx) => `relayed: ${await ctx.client.proxy(Greeter).hello({ name })}`,
  greeterPid: (_, ctx) => ctx.client.proxy(Greeter).pid(),
});
