/**
 * The wrk load generator of `deno task bench` (scripts/bench/wrk.ts): its Lua script, the
 * figures read from wrk's report, and a real wrk run against a live `Deno.serve` (only
 * counts are checked, never a rate).
 */

import { CI } from "../fixtures/peers.ts";
import assert from "node:assert/strict";
import { parseWrk, runWrkCell, wrkScript } from "../../scripts/bench/wrk.ts";

const REPORT = `Running 2s test @ http://127.0.0.1:39571/rpc
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   362.04us  285.10us   5.70ms   96.54%
    Req/Sec    94.80k    22.94k  123.35k    66.67%
  Latency Distribution
     50%  286.00us
     75%  407.00us
     90%  455.00us
     99%    1.52ms
  197183 requests in 2.10s, 27.08MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:  93903.87
Transfer/sec:     12.90MB
`;

Deno.test("parseWrk: calls/s, percentiles in ms, and failed calls from the report", () => {
  const r = parseWrk(REPORT);
  assert.equal(r.cps, 93903.87);
  assert.equal(r.calls, 197183);
  assert.equal(r.p50.toFixed(3), "0.286");
  assert.equal(r.p99.toFixed(3), "1.520");
  // Bad statuses and timeouts are failed calls; read errors (a server closing) are not.
  assert.equal(r.errors, 7);
  assert.match(r.wrong ?? "", /5 answers were not 2xx/);
});

Deno.test("parseWrk: a report without figures is an error, not a zero rate", () => {
  assert.throws(
    () => parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"),
    /no figures/,
  );
});

Deno.test("wrkScript: a body holding Lua's closing bracket still ends where it should", () => {
  const script = wrkScript(`{"a":"]=]"}`, "application/json");
  assert.match(script, /wrk\.body = \[==\[\{"a":"\]=\]"\}\]==\]/);
  assert.match(script, /wrk\.method = "POST"/);
  assert.match(script, /wrk\.headers\["Content-Type"\] = "application\/json"/);
});

const hasWrk = await new Deno.Command("sh", { args: ["-c", "command -v wrk"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "runWrkCell: wrk POSTs the body to a live server and its calls are counted",
  ignore: !hasWrk && !CI,
  async fn() {
    let seen = "";
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      seen = `${req.method} ${req.headers.get("content-type")} ${await req.text()}`;
      return new Response("ok");
    });
    const windows: boolean[] = [];
    try {
      const result = await runWrkCell({
        port: server.addr.port,
        path: "/rpc",
        contentType: "application/json",
        body: `{"x":1}`,
        connections: 2,
        pinned: [],
        warmupMs: 0,
        durationMs: 1000,
        onWindow: (open) => windows.push(open),
        check: (status, body) =>
          status === 200 && new TextDecoder().decode(body) === "ok" ? undefined : "wrong",
      });
      assert.equal(seen, `POST application/json {"x":1}`);
      assert.ok(result.calls > 0 && result.cps > 0, JSON.stringify(result));
      assert.ok(Number.isFinite(result.p50) && Number.isFinite(result.p99));
      assert.equal(result.errors, 0);
      assert.deepEqual(windows, [true, false]);
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "runWrkCell: a server giving the wrong answer fails the cell before any load",
  ignore: !hasWrk && !CI,
  async fn() {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("nope", { status: 500 }),
    );
    const windows: boolean[] = [];
    try {
      await assert.rejects(
        runWrkCell({
          port: server.addr.port,
          path: "/rpc",
          contentType: "application/json",
          body: "{}",
          connections: 1,
          pinned: [],
          warmupMs: 0,
          durationMs: 1000,
          onWindow: (open) => windows.push(open),
          check: (status) => status === 200 ? undefined : `HTTP ${status}`,
        }),
        /HTTP 500/,
      );
      assert.deepEqual(windows, []);
    } finally {
      await server.shutdown();
    }
  },
});
