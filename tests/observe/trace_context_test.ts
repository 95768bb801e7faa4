// W3C trace context on every transport, without any OpenTelemetry SDK: a tracing hook
// stands in for one (it hands each call a fixed context), and a handler that returns
// `ctx.trace` shows what arrived. Plus the codec's options element, what a plain peer
// gets, and the head sampling that skips spans.

import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import "../../src/adapters/deno/all_transports.ts";
import { Server } from "../../src/adapters/deno/server.ts";
import { implement } from "../../mod.ts";
import {
  type CallTracing,
  callTracing,
  setCallTracing,
} from "../../src/core/client/tracing_hook.ts";
import type { TraceCarrier } from "../../src/core/context.ts";
import { decodeMessage, encodeRequest, pack, unpack } from "../../src/wire/msgpackrpc/codec.ts";
import { loadComponents } from "../../deploy.ts";
import TraceEchoImpl, { Traced, TraceEcho } from "../fixtures/components/trace_echo.ts";
import { BROKER_URL, SKIP as NO_BROKER, uniquePrefix } from "../fixtures/amqp_broker.ts";
import { headSampler } from "../../src/observe/sampling.ts";
import { installTracing } from "../../src/observe/tracing.ts";
import { instrument } from "../../src/observe/instrument.ts";
import { Router } from "../../src/core/router/router.ts";
import { routerView } from "../../src/core/router/_transport.ts";

const SENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/** A stand-in tracing: every client call gets SENT; records what was asked. */
function fakeTracing(fetchPropagates = false) {
  const calls: { method: string; system: string }[] = [];
  const tracing: CallTracing = {
    fetchPropagates,
    client(method, system, send) {
      calls.push({ method, system });
      return send({ traceparent: SENT, tracestate: "sb=1" });
    },
    current: () => undefined,
    within: (_trace, fn) => fn(),
  };
  return { tracing, calls };
}

async function withTracing<T>(tracing: CallTracing, fn: () => Promise<T>): Promise<T> {
  setCallTracing(tracing);
  try {
    return await fn();
  } finally {
    setCallTracing(undefined);
  }
}

Deno.test("the trace context reaches the handler over HTTP (JSON-RPC, XML-RPC) and TCP", async () => {
  const server = new Server();
  server.register(TraceEchoImpl);
  // HTTP reads the headers when something observes calls (or tracing is on).
  server.router.observe((call, run) => run(call));
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
  const tcp = await server.listenTcp({ hostname: "127.0.0.1", port: 0 });
  const { tracing, calls } = fakeTracing();
  try {
    for (
      const [url, system] of [
        [`${http.url}/rpc`, "jsonrpc"],
        [`${http.url}/RPC2`, "xmlrpc"],
        [tcp.url, "msgpack-rpc"],
      ]
    ) {
      const client = connect(url, system === "xmlrpc" ? { protocol: "xmlrpc" } : {});
      try {
        assert.equal(await withTracing(tracing, () => client.call("TraceEcho.seen")), SENT, url);
        assert.deepEqual(calls.pop(), { method: "TraceEcho.seen", system });
        // Without tracing, a context given by the caller travels all the same.
        assert.equal(
          await client.call("TraceEcho.seen", {}, { trace: { traceparent: SENT } }),
          SENT,
        );
        assert.equal(await client.call("TraceEcho.seen"), "none");
      } finally {
        await client.close();
      }
    }
  } finally {
    await server.close();
  }
});

Deno.test("HTTP leaves traceparent to a fetch that sends its own (one value, never two)", async () => {
  const seen: (string | null)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push(request.headers.get("traceparent"));
    return Response.json({ jsonrpc: "2.0", id: 1, result: 1 });
  });
  const client = connect(`http://127.0.0.1:${server.addr.port}/rpc`);
  try {
    await withTracing(fakeTracing(false).tracing, () => client.call("A.b"));
    await withTracing(fakeTracing(true).tracing, () => client.call("A.b"));
    assert.deepEqual(seen, [SENT, null]);
  } finally {
    await client.close();
    await server.shutdown();
  }
});

Deno.test("a malformed traceparent from the wire is dropped, the call still runs", async () => {
  const server = new Server();
  server.register(TraceEchoImpl);
  server.router.observe((call, run) => run(call));
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
  try {
    for (
      const bad of [
        `${SENT}, 00-11111111111111111111111111111111-2222222222222222-01`,
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "garbage",
      ]
    ) {
      const res = await fetch(`${http.url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: bad },
        body: '{"jsonrpc":"2.0","id":1,"method":"TraceEcho.seen"}',
      });
      assert.equal((await res.json()).result, "none", bad);
    }
  } finally {
    await server.close();
  }
});

Deno.test("msgpack-rpc: the context rides in the options element, checked on the way in", () => {
  const trace: TraceCarrier = { traceparent: SENT, tracestate: "sb=1" };
  const bytes = encodeRequest(3, "A.b", [], undefined, trace);
  assert.deepEqual(unpack(bytes), [0, 3, "A.b", [], { traceparent: SENT, tracestate: "sb=1" }]);
  assert.deepEqual((decodeMessage(bytes) as { trace?: unknown }).trace, trace);
  const withTimeout = unpack(encodeRequest(3, "A.b", [], 50, { traceparent: SENT }));
  assert.deepEqual(withTimeout, [0, 3, "A.b", [], { timeout: 50, traceparent: SENT }]);
  // Hostile or broken values (a peer may write anything) are ignored, not refused.
  for (const traceparent of [42, "00-xyz", SENT + "-extra"]) {
    const message = decodeMessage(
      pack([0, 4, "A.b", [], { traceparent, timeout: 9 }]),
    );
    assert.equal((message as { trace?: unknown }).trace, undefined);
    assert.equal((message as { timeout?: number }).timeout, 9);
  }
  const long = decodeMessage(
    pack([0, 4, "A.b", [], { traceparent: SENT, tracestate: "x".repeat(600) }]),
  );
  assert.deepEqual((long as { trace?: unknown }).trace, { traceparent: SENT });
});

Deno.test("a plain msgpack-rpc peer (no $/hello) gets four elements, never the context", async () => {
  const server = new Server();
  server.register(implement(TraceEcho, {
    seen: (_, ctx) => ctx.trace?.traceparent ?? "none",
    // Calls back whoever called, with tracing installed.
    relay: async (_, ctx) => String(await ctx.peer!.call("Raw.hello")),
  }));
  const tcp = await server.listenTcp({ hostname: "127.0.0.1", port: 0 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcp.port });
  setCallTracing(fakeTracing().tracing);
  try {
    await conn.write(pack([0, 1, "TraceEcho.relay", []]));
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    const request = unpack(buffer.subarray(0, n!)) as unknown[];
    assert.equal(request.length, 4, JSON.stringify(request));
    assert.equal(request[2], "Raw.hello");
    await conn.write(pack([1, request[1], null, "hi"]));
    const m = await conn.read(buffer);
    assert.deepEqual(unpack(buffer.subarray(0, m!)), [1, 1, null, "hi"]);
  } finally {
    setCallTracing(undefined);
    conn.close();
    await server.close();
  }
});

Deno.test({
  name: "AMQP: the context travels as message headers",
  ignore: NO_BROKER,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const prefix = uniquePrefix("trace");
    const server = new Server();
    server.register(TraceEchoImpl);
    await server.listenAmqp(BROKER_URL, { prefix });
    const client = connect(BROKER_URL, { prefix } as Record<string, unknown>);
    const { tracing, calls } = fakeTracing();
    try {
      assert.equal(await withTracing(tracing, () => client.call("TraceEcho.seen")), SENT);
      assert.deepEqual(calls, [{ method: "TraceEcho.seen", system: "msgpack-rpc" }]);
    } finally {
      await client.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "worker calls: the host's context goes in, and the component's calls carry it back",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = new Server();
    const placed = await loadComponents(
      [{
        url: new URL("../fixtures/components/trace_echo.ts", import.meta.url).href,
        isolate: "worker",
      }],
      { client: () => server.router.client },
    );
    server.register(...placed.implementations);
    server.register(implement(Traced, { seen: (_, ctx) => ctx.trace?.traceparent ?? "none" }));
    server.router.observe((call, run) => run(call));
    const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
    const client = connect(`${http.url}/rpc`);
    try {
      const trace = { traceparent: SENT };
      assert.equal(await client.call("TraceEcho.seen", {}, { trace }), SENT);
      assert.equal(await client.call("TraceEcho.relay", {}, { trace }), SENT);
      assert.equal(await client.call("TraceEcho.relay"), "none");
    } finally {
      await client.close();
      await server.close();
      await placed.close();
    }
  },
});

Deno.test("head sampling: the sampler's name and the parent's flag decide, before any span", () => {
  const cases: [string | undefined, boolean | undefined, boolean][] = [
    [undefined, undefined, true],
    [undefined, false, false],
    [undefined, true, true],
    ["parentbased_always_off", undefined, false],
    ["parentbased_always_off", true, true],
    ["always_on", false, true],
    ["traceidratio", undefined, true],
    ["always_off", true, false],
    ["nonsense", false, false],
  ];
  for (const [name, parent, expected] of cases) {
    assert.equal(headSampler(name).sample(parent), expected, `${name} ${parent}`);
  }
  assert.equal(headSampler("always_off").never, true);
  assert.equal(headSampler(undefined).never, false);
});

Deno.test("tracing that can export nothing installs nothing: calls keep their fast path", () => {
  for (const options of [{ exporting: false }, { exporting: true, sampler: "always_off" }]) {
    assert.equal(installTracing(options), undefined);
    assert.equal(callTracing(), undefined);
    const router = new Router();
    router.register(implement(Traced, { seen: () => "x" }));
    instrument(router, { tracing: options });
    // Synchronous outcome: no observer (and no span) stands in the way.
    assert.deepEqual(routerView(router).dispatchNow({ method: "Traced.seen" }), {
      ok: true,
      value: "x",
      plain: true,
    });
  }
  assert.ok(installTracing({ exporting: true }));
  assert.ok(callTracing());
  setCallTracing(undefined);
});
