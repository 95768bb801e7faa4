// The JSON-RPC 2.0 codec, without sockets: every example of the specification's section 7,
// then the edges of the request grammar and the client-side encoding and decoding.

import assert from "node:assert/strict";
import {
  decodeResponse,
  encodeRequest,
  encodeResponse,
  errorObject,
  handleJsonRpc,
  parseMember,
  parseRequest,
} from "../../../src/wire/jsonrpc/codec.ts";
import { type Call, defineInterface, implement, method, t } from "../../../mod.ts";
import { Router } from "../../../server.ts";
import spec, { matchesSpec, received, specExamples } from "./spec_component.ts";

const quiet = { error: () => {}, warn: () => {} };
const router = new Router({ logger: quiet }).register(spec);
const dispatch = (call: Call) => router.dispatch(call);

async function run(text: string): Promise<unknown> {
  const reply = await handleJsonRpc(text, dispatch);
  return reply === null ? undefined : JSON.parse(reply);
}

for (const example of specExamples) {
  Deno.test(`spec example: ${example.name}`, async () => {
    assert.equal(matchesSpec(example, await run(example.request)), undefined);
  });
}

Deno.test("spec notifications reach their handlers", async () => {
  received.length = 0;
  await run('{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}');
  await run(
    '[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]}, {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]',
  );
  assert.deepEqual(received, [
    { method: "update", params: { a: 1, b: 2, c: 3, d: 4, e: 5 } },
    { method: "notify_sum", params: { a: 1, b: 2, c: 4 } },
    { method: "notify_hello", params: { n: 7 } },
  ]);
});

Deno.test("error messages are precise; protocol errors carry no name member", async () => {
  assert.deepEqual(await run('{"jsonrpc":"2.0","method":"foobar","id":1}'), {
    jsonrpc: "2.0",
    error: { code: -32601, message: "Method not found: foobar" },
    id: 1,
  });
  assert.deepEqual(await run('{"jsonrpc":"2.0","method":"subtract","params":[1,"2"],"id":2}'), {
    jsonrpc: "2.0",
    error: { code: -32602, message: 'params.subtrahend: expected int, got "2"' },
    id: 2,
  });
  const parse = await run("{") as { error: { message: string } };
  assert.match(parse.error.message, /^Parse error: /);
  const empty = await run("[]") as { error: { message: string } };
  assert.equal(empty.error.message, "Invalid Request: empty batch");
});

Deno.test("the request grammar: ids, jsonrpc member, method and params types", () => {
  const invalid = (value: unknown) => {
    const member = parseMember(value);
    assert.equal(member.kind, "invalid", JSON.stringify(value));
    return member as { id: unknown; error: { code: number; message: string } };
  };
  assert.deepEqual(invalid({ jsonrpc: "1.0", method: "m", id: 7 }).id, 7); // id kept
  assert.match(invalid({ method: "m", id: 1 }).error.message, /jsonrpc must be "2.0"/);
  assert.match(invalid({ jsonrpc: "2.0", method: "m", id: {} }).error.message, /id must be/);
  assert.equal(invalid({ jsonrpc: "2.0", method: "m", id: [1] }).id, null);
  assert.match(invalid({ jsonrpc: "2.0", id: 1 }).error.message, /method must be a string/);
  assert.match(
    invalid({ jsonrpc: "2.0", method: "m", params: "x", id: 1 }).error.message,
    /params/,
  );
  assert.match(
    invalid({ jsonrpc: "2.0", method: "m", params: null, id: 1 }).error.message,
    /params/,
  );
  assert.match(invalid({ jsonrpc: "2.0", method: "m", params: 3, id: 1 }).error.message, /params/);
  assert.match(invalid("x").error.message, /expected an object/);
  assert.match(invalid(null).error.message, /expected an object/);

  assert.deepEqual(parseMember({ jsonrpc: "2.0", method: "m", id: null }), {
    kind: "call",
    id: null,
    method: "m",
    params: undefined,
  });
  assert.deepEqual(parseMember({ jsonrpc: "2.0", method: "m", id: 1.5, params: [] }), {
    kind: "call",
    id: 1.5,
    method: "m",
    params: [],
  });
  assert.deepEqual(parseMember({ jsonrpc: "2.0", method: "m", params: {} }), {
    kind: "notification",
    method: "m",
    params: {},
  });
  assert.equal(parseRequest("[[]]").kind, "batch");
  assert.equal(parseRequest("  ").kind, "error");
});

Deno.test("a batch answers every call, in any order, and skips notifications", async () => {
  const reply = await run(
    JSON.stringify([
      { jsonrpc: "2.0", method: "sum", params: [1, 1, 1], id: "a" },
      { jsonrpc: "2.0", method: "notify_hello", params: [1] },
      { jsonrpc: "2.0", method: "nope", id: "b" },
      { jsonrpc: "2.0", method: "subtract", params: { minuend: 1 }, id: "c" },
      [],
    ]),
  ) as { id: unknown; result?: unknown; error?: { code: number } }[];
  const byId = Object.fromEntries(reply.filter((r) => r.id !== null).map((r) => [r.id, r]));
  assert.equal(reply.length, 4);
  assert.equal(byId.a.result, 3);
  assert.equal(byId.b.error?.code, -32601);
  assert.equal(byId.c.error?.code, -32602);
  assert.equal(reply.find((r) => r.id === null)?.error?.code, -32600);
});

Deno.test("datetimes and bytes in results travel as tags; application errors keep name", () => {
  const at = new Date("2020-02-03T04:05:06.007Z");
  assert.equal(
    encodeResponse(1, { ok: true, value: { at, raw: new Uint8Array([1, 2]), big: 2n ** 64n } }),
    '{"jsonrpc":"2.0","result":{"at":{"$date":"2020-02-03T04:05:06.007Z"},"raw":{"$bytes":"AQI="},"big":"18446744073709551616"},"id":1}',
  );
  assert.equal(
    encodeResponse("x", { ok: true, value: undefined }),
    '{"jsonrpc":"2.0","result":null,"id":"x"}',
  );
  assert.deepEqual(
    errorObject({ code: -32000, name: "NotFound", message: "no", data: { id: 1 } }),
    { code: -32000, message: "no", name: "NotFound", data: { id: 1 } },
  );
  assert.deepEqual(errorObject({ code: -32601, name: "MethodNotFound", message: "m" }), {
    code: -32601,
    message: "m",
  });
});

Deno.test("a result JSON cannot carry becomes an internal error response", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const reply = JSON.parse(encodeResponse(4, { ok: true, value: cycle }));
  assert.equal(reply.id, 4);
  assert.equal(reply.error.code, -32603);
  assert.match(reply.error.message, /^Internal error: the result cannot be encoded as JSON \(/);
  const error = { code: -32000, name: "E", message: "m", data: cycle };
  assert.equal(JSON.parse(encodeResponse(5, { ok: false, error })).error.code, -32603);
});

Deno.test("client side: requests encode, responses decode with tags revived", () => {
  assert.equal(
    encodeRequest("A.b", { at: new Date(0) }, 3),
    '{"jsonrpc":"2.0","id":3,"method":"A.b","params":{"at":{"$date":"1970-01-01T00:00:00.000Z"}}}',
  );
  assert.equal(encodeRequest("A.b", undefined), '{"jsonrpc":"2.0","method":"A.b"}');
  assert.deepEqual(
    decodeResponse({ jsonrpc: "2.0", result: { $date: "1970-01-01T00:00:00.000Z" }, id: 3 }),
    { id: 3, outcome: { ok: true, value: new Date(0) } },
  );
  assert.deepEqual(
    decodeResponse({ jsonrpc: "2.0", error: { code: -32601, message: "m" }, id: 3 }),
    {
      id: 3,
      outcome: { ok: false, error: { code: -32601, name: "MethodNotFound", message: "m" } },
    },
  );
  assert.deepEqual(
    decodeResponse({
      jsonrpc: "2.0",
      error: { code: 5, message: "m", name: "Odd", data: 1 },
      id: 3,
    }),
    { id: 3, outcome: { ok: false, error: { code: 5, name: "Odd", message: "m", data: 1 } } },
  );
  assert.equal(decodeResponse({ jsonrpc: "2.0", id: 3 }), undefined);
  assert.equal(decodeResponse({ result: 1, id: 3 }), undefined);
  assert.equal(decodeResponse("x"), undefined);
});

Deno.test("params by position follow the declared order, even if declared out of alphabet", async () => {
  const Order = defineInterface("Order", {
    pair: method({ params: { z: t.string, a: t.int }, result: t.string }),
  });
  const r = new Router({ logger: quiet }).register(
    implement(Order, { pair: ({ z, a }) => `${z}${a}` }),
  );
  const reply = await handleJsonRpc(
    '{"jsonrpc":"2.0","method":"Order.pair","params":["x",1],"id":1}',
    (c) => r.dispatch(c),
  );
  assert.deepEqual(JSON.parse(reply!), { jsonrpc: "2.0", result: "x1", id: 1 });
});

Deno.test("number results and ids are written as JSON.stringify writes them", () => {
  const numbers = [0, -0, 1, -3, 1.5, 0.1 + 0.2, 1e21, 1e-7, 2 ** 53, Number.MAX_VALUE, 5e-324];
  for (const value of [...numbers, NaN, Infinity, -Infinity]) {
    for (const id of [1, -7, 0, 2.5, 1e21, "n", null]) {
      for (const plain of [true, false]) {
        assert.equal(
          encodeResponse(id, { ok: true, value, plain }),
          `{"jsonrpc":"2.0","result":${JSON.stringify(value)},"id":${JSON.stringify(id)}}`,
        );
      }
    }
  }
  // A result declared t.float keeps its float text.
  assert.equal(
    encodeResponse(1, { ok: true, value: 2, plain: true, floats: t.float }),
    '{"jsonrpc":"2.0","result":2.0,"id":1}',
  );
});
