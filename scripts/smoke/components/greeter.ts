/** Smoke-test component: greets, and says which process answered (to see restarts). */

import { defineInterface, implement, method, t } from "@switchboard/rpc";

export const Greeter = defineInterface("Greeter", {
  hello: method({ params: { name: t.string }, result: t.string, public: true }),
  pid: method({ result: t.int, public: true, doc: "The pid of the process serving this call" }),
});

export default implement(Greeter, {
  hello: ({ name }) => `hello ${name}`,
  pid: () => Deno.pid,
});
