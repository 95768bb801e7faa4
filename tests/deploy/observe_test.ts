// Observability of a whole deployment: the shop's three processes under `switchboard deploy`.
// Traces: Deno's OpenTelemetry exports OTLP/HTTP (JSON) to a receiver this test runs, and a
// call through the front yields one trace whose spans have the right parents across the
// processes (front → orders → catalog), over HTTP (front → orders) and msgpack-rpc
// (orders → catalog, and a caller → the front's TCP listener). Metrics: a real Prometheus
// scrapes the supervisor's /metrics (with the status token) and each process's own.

import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { setCallTracing } from "../../src/core/client/tracing_hook.ts";
import { deploy, materialize, until } from "./helpers.ts";
import { attr, type OtlpSpan, receiver } from "../fixtures/otlp_receiver.ts";
import { freePort, prometheus, query } from "../fixtures/prometheus.ts";
import { skipWithout } from "../fixtures/serve_process.ts";
import { readStatusToken, statusTokenPath } from "../../src/deploy/status_token.ts";

const SHOP = new URL("../../examples/shop/deploy/three_processes.json", import.meta.url);
const SERVER = 2, CLIENT = 3;

/** A fresh W3C trace id and parent span id, as a caller outside the deployment sends them. */
function callerContext() {
  const hex = (n: number) =>
    Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0"))
      .join("");
  const traceId = hex(16), parentId = hex(8);
  return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
}

/** The span's ancestors (nearest first), as far as they were exported. */
function ancestors(spans: OtlpSpan[], span: OtlpSpan): OtlpSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain: OtlpSpan[] = [];
  for (let p = byId.get(span.parentSpanId ?? ""); p; p = byId.get(p.parentSpanId ?? "")) {
    chain.push(p);
    if (chain.length > 20) break;
  }
  return chain;
}

Deno.test({
  name: "deploy: a call through the front is one trace across the three processes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const otlp = receiver();
    const file = await materialize(SHOP);
    const run = deploy(["--log-level", "off", file.path], {
      OTEL_DENO: "true",
      OTEL_DENO_CONSOLE: "ignore",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    });
    const viaHttp = callerContext(), viaTcp = callerContext();
    try {
      await run.ready();
      const front = `http://127.0.0.1:${file.port(7300)}`;
      const res = await fetch(`${front}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: viaHttp.traceparent },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "Cart.add",
          params: { cart: "c1", sku: "apple", qty: 1 },
        }),
      });
      const body = await res.json();
      assert.equal(body.error, undefined, JSON.stringify(body));
      // A Switchboard caller over msgpack-rpc: its trace context rides in the request's
      // options element. The caller here has no OpenTelemetry: a fixed context stands in.
      setCallTracing({
        fetchPropagates: false,
        client: (_method, _system, send) => send({ traceparent: viaTcp.traceparent }),
        current: () => undefined,
        within: (_trace, fn) => fn(),
      });
      const client = connect(`tcp://127.0.0.1:${file.port(7301)}`);
      try {
        await client.call("Catalog.get", { sku: "apple" });
      } finally {
        setCallTracing(undefined);
        await client.close();
      }
    } finally {
      // Every process flushes its spans on exit.
      assert.equal(await run.stop(), 0, run.lines.join("\n"));
    }
    const rpc = (traceId: string) =>
      otlp.spans.filter((s) => s.traceId === traceId && attr(s, "rpc.system") !== undefined);
    await until(
      "the spans of both calls",
      () => rpc(viaHttp.traceId).length >= 5 && rpc(viaTcp.traceId).length >= 3 ? true : undefined,
      15_000,
    )
      .catch((error) => {
        throw new Error(`${error.message}: ${JSON.stringify(otlp.spans.map((s) => s.name))}`);
      });
    await otlp.stop();
    const all = otlp.spans;

    // Over HTTP: front SERVER Cart/add → front CLIENT Cart/add (jsonrpc) → orders SERVER
    // Cart/add → orders CLIENT Catalog/get (msgpack-rpc) → catalog SERVER Catalog/get.
    const spans = rpc(viaHttp.traceId);
    const find = (service: string, kind: number, name: string) => {
      const found = spans.filter((s) =>
        s.service === service && s.kind === kind && s.name === name
      );
      assert.equal(found.length, 1, `${service} ${kind} ${name}: ${JSON.stringify(spans)}`);
      return found[0];
    };
    const frontServer = find("front", SERVER, "Cart/add");
    const frontClient = find("front", CLIENT, "Cart/add");
    const ordersServer = find("orders", SERVER, "Cart/add");
    const ordersClient = find("orders", CLIENT, "Catalog/get");
    const catalogServer = find("catalog", SERVER, "Catalog/get");
    assert.equal(attr(frontServer, "rpc.system"), "jsonrpc");
    assert.equal(attr(frontServer, "rpc.service"), "Cart");
    assert.equal(attr(frontServer, "rpc.method"), "add");
    assert.equal(attr(frontClient, "rpc.system"), "jsonrpc");
    assert.equal(attr(ordersClient, "rpc.system"), "msgpack-rpc");
    assert.equal(attr(catalogServer, "rpc.system"), "msgpack-rpc");
    assert.equal(attr(catalogServer, "rpc.service"), "Catalog");
    // The caller's span is the root's parent (through Deno's span of the HTTP request).
    assert.ok(ancestors(all, frontServer).length >= 1);
    assert.equal(ancestors(all, frontServer).at(-1)?.parentSpanId, viaHttp.parentId);
    assert.equal(frontClient.parentSpanId, frontServer.spanId);
    // HTTP between processes: Deno's own fetch and request spans may sit in between.
    assert.ok(
      ancestors(all, ordersServer).some((s) => s.spanId === frontClient.spanId),
      `orders' span descends from the front's client span: ${
        JSON.stringify(ancestors(all, ordersServer))
      }`,
    );
    assert.equal(ordersClient.parentSpanId, ordersServer.spanId);
    // msgpack-rpc between processes: nothing in between.
    assert.equal(catalogServer.parentSpanId, ordersClient.spanId);

    // Over the front's TCP listener: the caller's context came in the options element.
    const tcp = rpc(viaTcp.traceId);
    const tcpFront = tcp.find((s) => s.service === "front" && s.kind === SERVER)!;
    assert.equal(tcpFront.parentSpanId, viaTcp.parentId);
    assert.equal(attr(tcpFront, "rpc.system"), "msgpack-rpc");
    const tcpCatalog = tcp.find((s) => s.service === "catalog" && s.kind === SERVER)!;
    assert.ok(ancestors(all, tcpCatalog).some((s) => s.spanId === tcpFront.spanId));
    await Deno.remove(file.dir, { recursive: true });
  },
});

Deno.test({
  name: "deploy: no span at all when the sampler drops everything, and calls still work",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const otlp = receiver();
    const file = await materialize(SHOP);
    const run = deploy(["--log-level", "off", file.path], {
      OTEL_DENO: "true",
      OTEL_DENO_CONSOLE: "ignore",
      OTEL_TRACES_SAMPLER: "always_off",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    });
    try {
      await run.ready();
      const client = connect(`http://127.0.0.1:${file.port(7300)}`);
      assert.ok(Array.isArray(await client.call("Cart.add", { cart: "c", sku: "apple", qty: 1 })));
      await client.close();
    } finally {
      assert.equal(await run.stop(), 0, run.lines.join("\n"));
    }
    await new Promise((r) => setTimeout(r, 500));
    await otlp.stop();
    assert.deepEqual(otlp.spans.filter((s) => attr(s, "rpc.system") !== undefined), []);
    await Deno.remove(file.dir, { recursive: true });
  },
});

const NO_PROMETHEUS = skipWithout(
  "prometheus",
  "apt-get install prometheus, or .ci/setup.d/40-observe.sh",
);

Deno.test({
  name: "deploy: Prometheus scrapes the supervisor (with its token) and each process",
  ignore: NO_PROMETHEUS,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const file = await materialize(SHOP);
    // Each process serves its own metrics on a port of its own.
    const value = JSON.parse(await Deno.readTextFile(file.path));
    const metricsPorts: Record<string, number> = {};
    for (const name of ["catalog", "orders", "front"]) {
      metricsPorts[name] = freePort();
      value.processes[name].metrics = `127.0.0.1:${metricsPorts[name]}`;
    }
    await Deno.writeTextFile(file.path, JSON.stringify(value));
    const statusPort = file.port(7399);
    const run = deploy(["--log-level", "off", file.path]);
    let prom: Awaited<ReturnType<typeof prometheus>> | undefined;
    try {
      const ready = await run.ready();
      assert.deepEqual(ready.metrics, {
        catalog: `127.0.0.1:${metricsPorts.catalog}`,
        orders: `127.0.0.1:${metricsPorts.orders}`,
        front: `127.0.0.1:${metricsPorts.front}`,
      });
      // The supervisor's metrics need the run's token, like its status.
      const anonymous = await fetch(`http://127.0.0.1:${statusPort}/metrics`);
      await anonymous.body?.cancel();
      assert.equal(anonymous.status, 401);
      const address = { hostname: "127.0.0.1", port: statusPort };
      const token = await readStatusToken(address);
      const wrong = await fetch(`http://127.0.0.1:${statusPort}/metrics`, {
        headers: { authorization: `Bearer ${token}x` },
      });
      await wrong.body?.cancel();
      assert.equal(wrong.status, 401);

      const client = connect(`http://127.0.0.1:${file.port(7300)}`);
      for (let i = 0; i < 3; i++) {
        await client.call("Cart.add", { cart: "p", sku: "apple", qty: 1 });
      }
      await client.close();

      prom = await prometheus([
        {
          name: "supervisor",
          targets: [`127.0.0.1:${statusPort}`],
          bearerFile: await statusTokenPath(address),
        },
        {
          name: "processes",
          targets: Object.values(metricsPorts).map((p) => `127.0.0.1:${p}`),
        },
      ]);
      const up = await query(
        prom.url,
        'switchboard_deploy_process_up{job="supervisor"}',
        (r) => r.length === 3 && r.every((s) => s.value[1] === "1"),
      );
      assert.deepEqual(
        up.map((s: { metric: Record<string, string> }) => s.metric.process).sort(),
        ["catalog", "front", "orders"],
      );
      // Each process counts its own calls: the front forwarded three Cart.add, orders
      // served them, catalog served the three Catalog.get they made.
      await query(
        prom.url,
        'switchboard_calls_total{job="processes",scope="front",interface="Cart",method="add",code="ok"}',
        (r) => r.length === 1 && r[0].value[1] === "3",
      );
      await query(
        prom.url,
        'switchboard_calls_total{job="processes",interface="Catalog",method="get",code="ok"}',
        (r) => r.length === 1 && r[0].value[1] === "3",
      );
      // A crash is counted by the supervisor as a restart, and the process comes back.
      const catalog = ready.processes.find((p) => p.name === "catalog")!;
      Deno.kill(catalog.pid!, "SIGKILL");
      await query(
        prom.url,
        'switchboard_deploy_process_restarts_total{process="catalog"}',
        (r) => r.length === 1 && r[0].value[1] === "1",
      );
      await query(
        prom.url,
        'switchboard_deploy_process_state{process="catalog",state="running"}',
        (r) => r.length === 1 && r[0].value[1] === "1",
      );
    } finally {
      await prom?.stop();
      assert.equal(await run.stop(), 0, run.lines.join("\n"));
    }
    await Deno.remove(file.dir, { recursive: true });
  },
});
