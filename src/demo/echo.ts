/**
 * The built-in demo `Echo`: sends values back, to try every type and the error model.
 *
 * @module
 */

import { defineInterface, method } from "../core/idl/interface.ts";
import { t } from "../core/idl/types.ts";
import { implement } from "../core/implement.ts";
import { RpcError } from "../core/errors.ts";

/** A structure exercising every IDL type. */
export const Sample = t.struct("Sample", {
  id: t.int,
  name: t.string,
  ratio: t.float,
  ok: t.bool,
  data: t.bytes,
  at: t.datetime,
  tags: t.array(t.string),
  attrs: t.map(t.int),
  note: t.optional(t.string),
  parent: t.nullable(t.int),
  level: t.enumeration("low", "high"),
});

/** Echoes values back. */
export const Echo = defineInterface("Echo", {
  echo: method({ params: { text: t.string }, result: t.string, doc: "Returns text", public: true }),
  reverse: method({ params: { text: t.string }, result: t.string, doc: "Returns text reversed" }),
  sample: method({ params: { value: Sample }, result: Sample, doc: "Returns a Sample as given" }),
  any: method({ params: { value: t.any }, result: t.any, doc: "Returns any value as given" }),
  now: method({ result: t.datetime, doc: "The server's clock" }),
  sleep: method({
    params: { ms: t.int },
    result: t.bool,
    doc: "Waits ms milliseconds (or until cancelled); true when it slept the whole time",
  }),
  fail: method({
    params: { name: t.string, message: t.string },
    doc: "Raises an application error with the given name and message",
  }),
  crash: method({ doc: "Throws an unexpected exception (shows -32603)" }),
}, { doc: "Sends values back." });

/** The demo implementation of {@linkcode Echo}. */
export const echo = implement(Echo, {
  echo: ({ text }) => text,
  reverse: ({ text }) => [...text].reverse().join(""),
  sample: ({ value }) => value,
  any: ({ value }) => value,
  now: () => new Date(),
  sleep: ({ ms }, ctx) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(true), ms);
      ctx.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve(false);
      }, { once: true });
    }),
  fail: ({ name, message }) => {
    throw new RpcError({ name, message });
  },
  crash: () => {
    throw new Error("secret internal detail");
  },
});
