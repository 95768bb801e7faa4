// Switchboard's own span export (`serve --trace` without OTEL_DENO), against a collector
// that decodes OTLP with encodings we did not write (tests/fixtures/otlp_collector.ts):
// spans with the RPC conventions and the right parents, in protobuf by default and JSON
// when asked; a collector that is down or hangs costs spans (counted in /metrics), never
// calls; SIGTERM sends what is waiting.

import assert from "node:assert/strict";
import { startServe } from "../fixtures/serve_process.ts";
import { attr, collector, type OtlpSpan } from "../fixtures/otlp_collector.ts";

const HOP = new URL("../fixtures/components/otlp_hop.ts", import.meta.url).pathname;

/** A fresh W3C trace id and parent span id, as a caller outside the server sends them. */
function callerTrace() {
  const hex = (n: number) =>
    [...crypto.getRandomValues(new Uint8Array(n))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
  const traceId = hex(16), parentId = hex(8);
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

async function rpc(url: string, method: string, params: unknown, headers: HeadersInit = {}) {
  const res = await fetch(`${url}/rpc`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }),
  });
  return await res.json();
}

/** A sample's value in Prometheus text. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(" ")[1]);
}

/** A port on 127.0.0.1 nothing listens on (bound, then closed). */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

for (const protocol of ["http/protobuf", "http/json"]) {
  Deno.test({
    name: `otlp export (${protocol}): a call's spans reach the collector on SIGTERM, parents right`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const otlp = collector();
      const served = await startServe(["--trace", "--log-level", "off", "--component", HOP], {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        // The default protocol is the spec's, protobuf: only JSON is named.
        ...(protocol === "http/json" ? { OTEL_EXPORTER_OTLP_PROTOCOL: protocol } : {}),
        OTEL_SERVICE_NAME: "otlp-test",
        // Nothing would be sent before the process stops: only the shutdown flush sends it.
        OTEL_BSP_SCHEDULE_DELAY: "600000",
      });
      const caller = callerTrace();
      let output = "";
      try {
        const answer = await rpc(served.url, "Hop.outer", { n: 1 }, {
          traceparent: caller.traceparent,
        });
        assert.equal(answer.result, 4);
        const failed = await rpc(served.url, "Hop.inner", { n: "x" });
        assert.equal(failed.error.code, -32602);
        // Nothing sent yet: the batch waits for its delay, or the shutdown.
        assert.equal(otlp.spans.length, 0);
      } finally {
        output = await served.stop();
      }
      await otlp.until((spans) => spans.length >= 3, 10_000);
      await otlp.stop();
      assert.deepEqual(otlp.problems, [], output);
      assert.deepEqual(
        [...new Set(otlp.encodings)],
        [protocol === "http/json" ? "json" : "protobuf"],
      );
      const byName = (name: string, traceId?: string) =>
        otlp.spans.find((s) => s.name === name && (!traceId || s.traceId === traceId));
      const outer = byName("Hop/outer", caller.traceId);
      assert.ok(outer, JSON.stringify(otlp.spans.map((s: OtlpSpan) => s.name)));
      // The caller's span is the parent of the server span.
      assert.equal(outer.parentSpanId, caller.parentId);
      assert.equal(outer.kind, 2, "SPAN_KIND_SERVER");
      assert.equal(outer.service, "otlp-test");
      assert.equal(attr(outer, "rpc.system"), "jsonrpc");
      assert.equal(attr(outer, "rpc.service"), "Hop");
      assert.equal(attr(outer, "rpc.method"), "outer");
      assert.equal(attr(outer, "rpc.jsonrpc.request_id"), "7");
      // The call it made through ctx.client is its child, in the same trace.
      const inner = byName("Hop/inner", caller.traceId);
      assert.ok(inner);
      assert.equal(inner.parentSpanId, outer.spanId);
      // The refused call: a root span of its own, marked failed with the JSON-RPC code.
      const refused = otlp.spans.find((s) =>
        s.name === "Hop/inner" && s.traceId !== caller.traceId
      );
      assert.ok(refused);
      assert.equal(Number(attr(refused, "rpc.jsonrpc.error_code")), -32602);
      assert.equal((refused as { status?: { code?: number } }).status?.code, 2, "STATUS_ERROR");
    },
  });
}

for (const down of ["refuses connections", "never answers"]) {
  Deno.test({
    name: `otlp export: a collector that ${down} costs spans (counted), never calls`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const hanging = down === "never answers" ? collector("hang") : undefined;
      const served = await startServe([
        "--trace",
        "--metrics",
        "--log-level",
        "off",
        "--component",
        HOP,
      ], {
        OTEL_EXPORTER_OTLP_ENDPOINT: hanging?.url ?? `http://127.0.0.1:${closedPort()}`,
        OTEL_BSP_MAX_QUEUE_SIZE: "4",
        OTEL_BSP_SCHEDULE_DELAY: "10",
      });
      try {
        const started = Date.now();
        for (let i = 0; i < 40; i++) {
          assert.equal((await rpc(served.url, "Hop.inner", { n: i })).result, 2 * i);
        }
        // A call that waited on the export would wait for its timeout (10 s) and retries.
        assert.ok(Date.now() - started < 8000, `40 calls took ${Date.now() - started} ms`);
        // 4 spans in the export that is retrying, at most 4 waiting: the rest are dropped.
        const dropped = await metric(served.url, "switchboard_trace_spans_dropped_total");
        assert.ok(dropped >= 32, `dropped ${dropped}`);
        assert.equal(await metric(served.url, "switchboard_trace_spans_exported_total"), 0);
      } finally {
        const started = Date.now();
        await served.stop(20_000);
        // The shutdown gives the collector a bounded time, then exits.
        assert.ok(Date.now() - started < 15_000, `stop took ${Date.now() - started} ms`);
        await hanging?.stop();
      }
    },
  });
}

Deno.test({
  name:
    "otlp export: Server({ trace }) — a client span between two servers' spans, flushed by close",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { Server } = await import("../../server.ts");
    const { connect, implement } = await import("../../mod.ts");
    const { Hop } = await import("../fixtures/components/otlp_hop.ts");
    const otlp = collector();
    const trace = {
      url: `${otlp.url}/v1/traces`,
      protocol: "http/json",
      queue: { delayMs: 600_000 },
    };
    const back = new Server({ trace });
    back.register(implement(Hop, { outer: ({ n }) => n, inner: ({ n }) => n * 2 }));
    const backHttp = await back.listenHttp({ hostname: "127.0.0.1", port: 0 });
    const remote = connect(`${backHttp.url}/rpc`);
    const front = new Server({ trace });
    front.register(implement(Hop, {
      // The hop goes over HTTP, to the other server: a client span, then its server span.
      outer: ({ n }) => remote.proxy(Hop).inner({ n: n + 1 }),
      inner: ({ n }) => n,
    }));
    const frontHttp = await front.listenHttp({ hostname: "127.0.0.1", port: 0 });
    try {
      assert.equal((await rpc(frontHttp.url, "Hop.outer", { n: 1 })).result, 4);
      assert.equal(otlp.spans.length, 0, "nothing sent before close");
    } finally {
      await remote.close();
      await front.close();
      await back.close();
    }
    await otlp.until((spans) => spans.length >= 3, 10_000);
    await otlp.stop();
    assert.deepEqual(otlp.problems, []);
    const outer = otlp.spans.find((s) => s.name === "Hop/outer" && s.kind === 2);
    const client = otlp.spans.find((s) => s.name === "Hop/inner" && s.kind === 3);
    const inner = otlp.spans.find((s) => s.name === "Hop/inner" && s.kind === 2);
    assert.ok(outer && client && inner, JSON.stringify(otlp.spans));
    assert.equal(client.parentSpanId, outer.spanId);
    assert.equal(inner.parentSpanId, client.spanId);
    assert.equal(new Set([outer.traceId, client.traceId, inner.traceId]).size, 1);
    assert.equal(attr(client, "rpc.system"), "jsonrpc");
  },
});
