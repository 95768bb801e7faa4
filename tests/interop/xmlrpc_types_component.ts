// The interface the XML-RPC tests call: one echo per XML-RPC type, typed results that
// decide <int>/<double>/<i8>, a named application error, and a void method.

import { defineError, defineInterface, implement, method, t } from "../../mod.ts";

const NotFound = defineError("NotFound");

/** A struct with a field of every kind. */
export const Thing = t.struct("Thing", {
  id: t.int,
  name: t.string,
  score: t.float,
  big: t.int64,
  ok: t.bool,
  blob: t.bytes,
  when: t.datetime,
  tags: t.array(t.string),
  extra: t.optional(t.nullable(t.string)),
});

/** Echoes and edge cases for every XML-RPC type. */
export const Types = defineInterface("Types", {
  echoInt: method({ params: { v: t.int }, result: t.int, doc: "Returns its int." }),
  echoInt64: method({ params: { v: t.int64 }, result: t.int64 }),
  echoFloat: method({ params: { v: t.float }, result: t.float }),
  echoBool: method({ params: { v: t.bool }, result: t.bool }),
  echoString: method({ params: { v: t.string }, result: t.string }),
  echoBytes: method({ params: { v: t.bytes }, result: t.bytes }),
  echoDate: method({ params: { v: t.datetime }, result: t.datetime }),
  echoThing: method({ params: { v: Thing }, result: Thing }),
  echoAny: method({ params: { v: t.nullable(t.any) }, result: t.nullable(t.any) }),
  echoList: method({ params: { v: t.array(t.int) }, result: t.array(t.int) }),
  add: method({ params: { a: t.int, b: t.int }, result: t.int, doc: "a + b" }),
  half: method({ params: { n: t.int }, result: t.float, doc: "n / 2, always a double" }),
  tooBig: method({ result: t.int, doc: "2**40 declared as a plain int: cannot travel" }),
  big64: method({ result: t.int64 }),
  fail: method({ params: { id: t.int }, result: t.string, errors: ["NotFound"] }),
  nothing: method({ doc: "Returns nothing." }),
  sleep: method({ params: { ms: t.int }, doc: "Waits ms milliseconds, or until cancelled." }),
});

export default implement(Types, {
  echoInt: ({ v }) => v,
  echoInt64: ({ v }) => v,
  echoFloat: ({ v }) => v,
  echoBool: ({ v }) => v,
  echoString: ({ v }) => v,
  echoBytes: ({ v }) => v,
  echoDate: ({ v }) => v,
  echoThing: ({ v }) => v,
  echoAny: ({ v }) => v,
  echoList: ({ v }) => v,
  add: ({ a, b }) => a + b,
  half: ({ n }) => n / 2,
  tooBig: () => 2 ** 40,
  big64: () => 2n ** 62n + 1n,
  fail: ({ id }) => {
    throw new NotFound(`no such thing: ${id}`);
  },
  nothing: () => {},
  sleep: ({ ms }, ctx) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      ctx.signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", done);
        resolve();
      }
    }),
});
