// Prometheus metrics end to end: `serve --metrics` in a subprocess, calls over HTTP and
// TCP, and a real Prometheus (Debian's `prometheus`) that scrapes it; queries through its
// HTTP API must return the counts the calls made.

import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import "../../src/client/all_transports.ts";
import { skipWithout, startServe } from "../fixtures/serve_process.ts";

const SKIP = skipWithout("prometheus", "bash .ci/setup.d/21-prometheus.sh");

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Runs a Prometheus scraping `target` every 250 ms; returns its URL and a stop. */
async function prometheus(target: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "sb-prom-" });
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/prometheus.yml`,
    `global: { scrape_interval: 250ms, evaluation_interval: 250ms }
scrape_configs:
  - job_name: switchboard
    scrape_timeout: 200ms
    static_configs: [{ targets: ["${target}"] }]
`,
  );
  const child = new Deno.Command("prometheus", {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const drained = (async () => {
    for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) log += c;
  })();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await drained;
    await Deno.remove(dir, { recursive: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/-/ready`);
      await res.body?.cancel();
      if (res.ok) return { url, stop };
    } catch { /* not yet */ }
    if (Date.now() > until) {
      await stop();
      throw new Error(`prometheus did not get ready:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Polls an instant query (bounded) until `accept` likes its result. */
async function query(
  prom: string,
  promql: string,
  accept: (values: { metric: Record<string, string>; value: [number, string] }[]) => boolean,
) {
  let last: unknown;
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = await res.json();
    last = body;
    if (body.status === "success" && accept(body.data.result)) return body.data.result;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${promql}: no acceptable answer, last ${JSON.stringify(last)}`);
}

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
