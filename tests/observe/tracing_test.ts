// Traces over HTTP: `serve --trace` under Deno's OpenTelemetry (OTEL_DENO=true), exporting
// OTLP/HTTP (JSON) to a receiver this test runs. A call that carries a W3C `traceparent`
// yields a server span with the RPC semantic conventions, in the caller's trace, under
// the request's HTTP span.

import assert from "node:assert/strict";
import { startServe } from "../fixtures/serve_process.ts";
import { attr, receiver } from "../fixtures/otlp_receiver.ts";

Deno.test({
  name: "tracing: a JSON-RPC call's span joins the caller's trace with RPC attributes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const otlp = receiver();
    const served = await startServe(["--trace", "--log-level", "off"], {
      OTEL_DENO: "true",
      OTEL_DENO_CONSOLE: "ignore",
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "switchboard-test",
    });
    const traceId = crypto.randomUUID().replaceAll("-", "");
    const parentId = traceId.slice(0, 16);
    try {
      for (
        const [method, params] of [["Calculator.add", { a: 1, b: 2 }], ["Calculator.divide", {
          a: 1,
          b: 0,
        }]]
      ) {
        const res = await fetch(`${served.url}/rpc`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            traceparent: `00-${traceId}-${parentId}-01`,
          },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
        });
        await res.body?.cancel();
      }
    } finally {
      // Spans are flushed on exit.
      await served.stop();
    }
    const until = Date.now() + 10_000;
    while (otlp.spans.filter((s) => s.traceId === traceId).length < 4 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await otlp.stop();
    const mine = otlp.spans.filter((s) => s.traceId === traceId);
    const rpc = mine.filter((s) => attr(s, "rpc.system") === "jsonrpc");
    assert.equal(rpc.length, 2, JSON.stringify(otlp.spans.map((s) => s.name)));
    const add = rpc.find((s) => s.name === "Calculator/add")!;
    assert.equal(attr(add, "rpc.service"), "Calculator");
    assert.equal(attr(add, "rpc.method"), "add");
    assert.equal(add.kind, 2, "SPAN_KIND_SERVER");
    // Its parent is Deno's span of the HTTP request, whose parent is the caller's span.
    const http = mine.find((s) => s.spanId === add.parentSpanId);
    assert.ok(http, "parent span exported");
    assert.equal(http.parentSpanId, parentId);
    const divide = rpc.find((s) => s.name === "Calculator/divide")!;
    assert.equal(Number(attr(divide, "rpc.jsonrpc.error_code")), -32000);
    assert.equal(attr(divide, "error.type"), "DivisionByZero");
  },
});
