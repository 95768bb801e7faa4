/**
 * Property tests of the XML-RPC reader and handler: any text, and documents built from the
 * grammar with junk, entities and DOCTYPEs, are refused with XmlRpcReadError only, quickly;
 * the handler always answers a methodResponse; encoded calls read back as they were sent.
 */

import assert from "node:assert/strict";
import { handleXmlRpc } from "../../xmlrpc.ts";
import { Server } from "../../server.ts";
import {
  readMethodCall,
  readMethodResponse,
  XmlRpcReadError,
} from "../../src/wire/xmlrpc/reader.ts";
import { encodeMethodCall } from "../../src/wire/xmlrpc/codec.ts";
import { demoComponents } from "../../src/demo/mod.ts";
import { Rng } from "../../scripts/fuzz/rng.ts";
import { xmlBody } from "../../scripts/fuzz/xmlrpc_gen.ts";
import { check, fc, SEED, within } from "./fc_setup.ts";

function onlyReadErrors(fn: () => unknown): void {
  try {
    within(300, "reading the document", fn);
  } catch (error) {
    if (!(error instanceof XmlRpcReadError)) throw error;
    assert.ok([-32700, -32600].includes(error.code));
  }
}

const decoder = new TextDecoder();
/** Grammar-built documents (see scripts/fuzz/xmlrpc_gen.ts), mutated, as text. */
const grammarDoc = fc.integer().map((seed) => decoder.decode(xmlBody(new Rng(seed))));

Deno.test("readMethodCall / readMethodResponse: any text throws XmlRpcReadError or reads", () => {
  check(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), grammarDoc), (text) => {
      onlyReadErrors(() => readMethodCall(text));
      onlyReadErrors(() => readMethodResponse(text.replaceAll("methodCall", "methodResponse")));
    }),
    400,
  );
});

/** Values XML-RPC carries exactly (untyped writing picks <int> for 32-bit integers). */
const xmlValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
    fc.boolean(),
    // deno-lint-ignore no-control-regex -- characters XML cannot carry
    fc.string().filter((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s)),
    fc.constant(null),
    fc.uint8Array({ maxLength: 20 }),
    fc.integer({ min: 0, max: 253402300799 }).map((s) => new Date(s * 1000)), // 4-digit years
    fc.array(tie("value"), { maxLength: 4 }),
    // deno-lint-ignore no-control-regex -- characters XML cannot carry
    fc.dictionary(fc.string().filter((s) => !/[\u0000-\u001f\ufffe\uffff]/.test(s)), tie("value"), {
      maxKeys: 4,
      noNullPrototype: true,
    }),
  ),
})).value;

Deno.test("encodeMethodCall then readMethodCall gives the same call", () => {
  const method = fc.stringMatching(/^[A-Za-z_][\w.]{0,20}$/);
  check(fc.property(method, fc.array(xmlValue, { maxLength: 4 }), (name, params) => {
    assert.deepEqual(readMethodCall(encodeMethodCall(name, params)), { method: name, params });
  }));
});

const server = new Server({ logger: { warn: () => {}, error: () => {} } }).register(
  ...demoComponents,
);
const dispatch = (call: Parameters<typeof server.router.dispatch>[0]) =>
  server.router.dispatch(call);
const VALID = encodeMethodCall("Calculator.add", [2, 3]);

Deno.test("handleXmlRpc: every body gets a methodResponse; a valid call works after each", async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(grammarDoc, fc.string()), async (body) => {
      const started = performance.now();
      const reply = await handleXmlRpc(body, dispatch, {}, server.router);
      assert.ok(performance.now() - started < 2000, "answered in time");
      const response = readMethodResponse(reply);
      if (!response.ok) {
        const fault = response.fault as { faultCode: number; faultString: string };
        assert.ok(
          fault.faultCode !== -32603 || /cannot travel/.test(fault.faultString),
          fault.faultString,
        );
      }
      const after = readMethodResponse(await handleXmlRpc(VALID, dispatch, {}, server.router));
      assert.deepEqual(after, { ok: true, value: 5 });
    }),
    { numRuns: 200, seed: SEED },
  );
});
