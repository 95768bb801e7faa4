// Prometheus metrics end to end: `serve --metrics` in a subprocess, calls over HTTP and
// TCP, and a real Prometheus (Debian's `prometheus`) that scrapes it; queries through its
// HTTP API must return the counts the calls made.

import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import "../../src/adapters/deno/all_transports.ts";
import { skipWithout, startServe } from "../fixtures/serve_process.ts";
import { freePort, prometheus, query } from "../fixtures/prometheus.ts";

const SKIP = skipWithout("prometheus", "bash .ci/setup.d/21-prometheus.sh");

Deno.test({
  name: "metrics: Prometheus scrapes serve --metrics and counts calls by method, protocol, code",
  ignore: SKIP,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const spawned = Date.now() / 1000;
    const served = await startServe(["--tcp", "127.0.0.1:0", "--metrics", "--log-level", "off"]);
    const ready = Date.now() / 1000;
    const tcpUrl = (await served.waitFor(/listening on (tcp:\/\/\S+)/))[1];
    const http = connect(served.url);
    const tcp = connect(tcpUrl);
    let prom: Awaited<ReturnType<typeof prometheus>> | undefined;
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal(await http.call("Calculator.add", { a: i, b: 1 }), i + 1);
      }
      await http.call("Calculator.add", { a: 1.5, b: 1 }).catch(() => {});
      for (let i = 0; i < 2; i++) await tcp.call("Calculator.add", [i, i]);
      await http.call("No.such", {}).catch(() => {});

      // The exposition itself, before Prometheus reads it.
      const text = await (await fetch(`${served.url}/metrics`)).text();
      assert.match(
        text,
        /switchboard_calls_total\{interface="Calculator",method="add",protocol="jsonrpc",code="ok"\} 3/,
      );
      assert.match(text, /code="-32602"\} 1/);
      assert.match(text, /method="\(unknown\)",protocol="jsonrpc",code="-32601"\} 1/);
      assert.match(text, /switchboard_open_connections\{transport="tcp"\} 1/);
      assert.match(text, /process_resident_memory_bytes \d+/);
      assert.match(text, /process_cpu_seconds_total \d/);
      const start = Number(text.match(/^process_start_time_seconds (\S+)$/m)?.[1]);
      assert(start >= spawned - 1 && start <= ready, `started ${start}, spawned ${spawned}`);

      const target = new URL(served.url).host;
      prom = await prometheus(target);
      const value = (r: { value: [number, string] }[]) =>
        r.length === 1 ? Number(r[0].value[1]) : NaN;
      await query(
        prom.url,
        'switchboard_calls_total{method="add",protocol="jsonrpc",code="ok"}',
        (r) => value(r) === 3,
      );
      await query(
        prom.url,
        'switchboard_calls_total{method="add",protocol="msgpack-rpc",code="ok"}',
        (r) => value(r) === 2,
      );
      await query(prom.url, 'switchboard_calls_total{code="-32602"}', (r) => value(r) === 1);
      await query(
        prom.url,
        'sum(switchboard_call_duration_seconds_count{interface="Calculator"})',
        (r) => value(r) === 6,
      );
      await query(prom.url, 'switchboard_open_connections{transport="tcp"}', (r) => value(r) === 1);
      // The TCP client goes: Prometheus sees the connection close.
      await tcp.close();
      await query(prom.url, 'switchboard_open_connections{transport="tcp"}', (r) => value(r) === 0);
      const up = await query(prom.url, 'up{job="switchboard"}', (r) => value(r) === 1);
      assert(up.length === 1);
    } finally {
      await tcp.close();
      await http.close();
      await prom?.stop();
      await served.stop();
    }
  },
});

Deno.test({
  name: "metrics: off by default; --metrics-listen serves them on an address of their own",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const plain = await startServe(["--log-level", "off"]);
    try {
      const res = await fetch(`${plain.url}/metrics`);
      await res.body?.cancel();
      assert.equal(res.status, 404);
    } finally {
      await plain.stop();
    }
    const port = freePort();
    const own = await startServe(["--metrics-listen", `127.0.0.1:${port}`, "--log-level", "off"]);
    try {
      await own.waitFor(/metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/);
      const onHttp = await fetch(`${own.url}/metrics`);
      await onHttp.body?.cancel();
      assert.equal(onHttp.status, 404, "only on the metrics address");
      const client = connect(own.url);
      await client.call("Echo.echo", { text: "x" }).catch(() => {});
      await client.close();
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
      assert.match(await res.text(), /switchboard_calls_total\{interface="Echo"/);
      const elsewhere = await fetch(`http://127.0.0.1:${port}/`);
      await elsewhere.body?.cancel();
      assert.equal(elsewhere.status, 404);
    } finally {
      await own.stop();
    }
  },
});
