/**
 * Property tests of the JSON-RPC codec and its HTTP endpoint: any text or JSON value is
 * answered with a protocol error (never a throw, never a 500), quickly; valid calls still
 * work after garbage; requests and responses round-trip.
 */

import assert from "node:assert/strict";
import { createHttpApp, Server } from "../../server.ts";
import { xmlRpcHandler } from "../../xmlrpc.ts";
import {
  decodeResponse,
  encodeRequest,
  encodeResponse,
  parseRequest,
  parseRequestValue,
} from "../../src/wire/jsonrpc/codec.ts";
import { demoComponents } from "../../src/demo/mod.ts";
import { Rng } from "../../scripts/fuzz/rng.ts";
import { memberText, wholeBody } from "../../scripts/fuzz/jsonrpc_gen.ts";
import { check, fc, SEED, within } from "./fc_setup.ts";

const KINDS = ["single", "batch", "error"];

Deno.test("parseRequest: any text is a request, a batch or a parse error, never a throw", () => {
  check(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.json()), (text) => {
      const parsed = within(200, "parseRequest", () => parseRequest(text));
      assert.ok(KINDS.includes(parsed.kind));
    }),
    500,
  );
});

Deno.test("parseRequestValue: any value gets members or an error; ids are always legal", () => {
  check(
    fc.property(fc.anything({ withObjectString: true, withNullPrototype: true }), (value) => {
      const parsed = parseRequestValue(value);
      const members = parsed.kind === "batch"
        ? parsed.members
        : parsed.kind === "single"
        ? [parsed.member]
        : [];
      for (const m of members) {
        if (m.kind === "notification") continue;
        assert.ok(m.id === null || typeof m.id === "string" || Number.isFinite(m.id));
        if (m.kind === "invalid") assert.equal(m.error.code, -32600);
      }
    }),
    500,
  );
});

Deno.test("encodeRequest then parseRequest gives the same call", () => {
  const id = fc.oneof(fc.integer(), fc.string(), fc.constant(null));
  const params = fc.oneof(fc.array(fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue()));
  check(fc.property(fc.string(), params, id, (method, p, i) => {
    const parsed = parseRequest(encodeRequest(method, p, i));
    assert.equal(parsed.kind, "single");
    // JSON has no -0 and keeps `__proto__` as a plain key: compare with JSON's own reading.
    assert.deepEqual(parsed.kind === "single" && parsed.member, {
      kind: "call",
      id: i,
      method,
      params: JSON.parse(JSON.stringify(p)),
    });
  }));
});

Deno.test("encodeResponse then decodeResponse gives the same outcome", () => {
  const plain = fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"$'));
  check(fc.property(plain, fc.integer(), (value, id) => {
    const decoded = decodeResponse(JSON.parse(encodeResponse(id, { ok: true, value })));
    assert.deepEqual(decoded, {
      id,
      outcome: { ok: true, value: JSON.parse(JSON.stringify(value ?? null)) },
    });
  }));
});

const logged: string[] = [];
const server = new Server({ logger: { warn: () => {}, error: (m) => logged.push(m) } })
  .register(...demoComponents);
const app = createHttpApp(server.router, { xmlrpc: xmlRpcHandler(server.router) });
const VALID = '{"jsonrpc":"2.0","id":7,"method":"Calculator.add","params":[2,3]}';

async function post(body: Uint8Array<ArrayBuffer> | string): Promise<Response> {
  return await app.fetch(
    new Request("http://x/rpc", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }),
  );
}

Deno.test("POST /rpc: mutated bodies get JSON-RPC answers (no 500), and a valid call works after each", async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer(), async (seed) => {
      const rng = new Rng(seed);
      const body = rng.chance(0.5)
        ? wholeBody(rng, 1).slice()
        : `[${memberText(rng, 1)},${memberText(rng, 2)}]`;
      const started = performance.now();
      const response = await post(body);
      const text = await response.text();
      assert.ok(
        [200, 204, 413].includes(response.status),
        `status ${response.status}: ${text.slice(0, 200)}`,
      );
      assert.ok(performance.now() - started < 2000, "answered in time");
      // Nothing to answer (notifications only) is an empty 200.
      if (response.status === 200 && text !== "") {
        const replies = [JSON.parse(text)].flat();
        for (const r of replies) {
          assert.equal(r.jsonrpc, "2.0");
          if (r.error) {
            assert.notEqual(r.error.code, -32603, `internal error for ${text.slice(0, 300)}`);
          }
        }
      }
      const after = await post(VALID);
      assert.deepEqual(await after.json(), { jsonrpc: "2.0", result: 5, id: 7 });
    }),
    { numRuns: 150, seed: SEED },
  );
  assert.deepEqual(logged, [], "no internal error was logged");
});
