// A whole <double> inside a t.any value goes back as a <double>: the kind a value arrived
// with is kept where it can be known (the array or struct that holds it).
import assert from "node:assert/strict";
import { defineInterface, implement, method, t } from "../../../mod.ts";
import { Router } from "../../../server.ts";
import { handleXmlRpc } from "../../../xmlrpc.ts";

const Any = defineInterface("Any", {
  echo: method({ params: { v: t.any }, result: t.any }),
  list: method({ params: { v: t.array(t.any) }, result: t.array(t.optional(t.any)) }),
  bump: method({ params: { v: t.array(t.any) }, result: t.array(t.any) }),
  fresh: method({ params: { v: t.any }, result: t.any }),
});
const router = new Router().register(implement(Any, {
  echo: ({ v }) => v,
  list: ({ v }) => v,
  bump: ({ v }) => {
    (v as number[])[0] = 5;
    return v;
  },
  fresh: ({ v }) => structuredClone(v),
}));

const call = (method: string, value: string) =>
  handleXmlRpc(
    `<methodCall><methodName>${method}</methodName><params><param>${value}</param></params></methodCall>`,
    (c) => router.dispatch(c),
    {},
    router,
  );
const result = (reply: string) =>
  reply.slice(reply.indexOf("<param>") + 7, reply.lastIndexOf("</param>"));
const v = (inner: string) => `<value>${inner}</value>`;
const list = (...items: string[]) => v(`<array><data>${items.join("")}</data></array>`);
const struct = (name: string, item: string) =>
  v(`<struct><member><name>${name}</name>${item}</member></struct>`);

Deno.test("whole doubles inside t.any values go back as <double>; ints as <int>", async () => {
  const sent = list(
    v("<double>1.0</double>"),
    v("<int>1</int>"),
    struct("d", v("<double>-0.0</double>")),
  );
  assert.equal(
    result(await call("Any.echo", sent)),
    list(v("<double>1</double>"), v("<int>1</int>"), struct("d", v("<double>-0</double>"))),
  );
  // Typed as t.array(t.optional(t.any)): the items are still written by what arrived.
  assert.equal(
    result(await call("Any.list", list(v("<double>2</double>"), v("<i4>2</i4>")))),
    list(v("<double>2</double>"), v("<int>2</int>")),
  );
});

Deno.test("what cannot be known goes by value: a bare param, a changed or new container", async () => {
  assert.equal(result(await call("Any.echo", v("<double>3.0</double>"))), v("<int>3</int>"));
  assert.equal(
    result(await call("Any.bump", list(v("<double>1</double>"), v("<double>2</double>")))),
    list(v("<int>5</int>"), v("<double>2</double>")),
  );
  assert.equal(
    result(await call("Any.fresh", list(v("<double>1</double>")))),
    list(v("<int>1</int>")),
  );
});
