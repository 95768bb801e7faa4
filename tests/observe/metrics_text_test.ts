// The exposition `Metrics` writes for real router calls, read back by an independent
// parser and by promtool; the Deno process probe's figures; registration mistakes.

import assert from "node:assert/strict";
import parse from "parse-prometheus-text-format";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { Router } from "../../server.ts";
import { Metrics } from "../../src/observe/metrics.ts";
import { processProbe } from "../../src/adapters/deno/observe_io.ts";
import { skipWithout } from "../fixtures/serve_process.ts";
import { promtool } from "../fixtures/promtool.ts";

type Parsed = { name: string; type: string; metrics: { labels?: Record<string, string> }[] };

const Calc = defineInterface("Calc", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
});

function router(): Router {
  return new Router().register(implement(Calc, { add: ({ a, b }) => a + b }));
}

async function scraped(): Promise<{ metrics: Metrics; text: string }> {
  const front = router();
  const metrics = new Metrics({ process: processProbe(), labels: { app: "t" } })
    .watch(front, "front");
  await front.dispatch({ method: "Calc.add", params: { a: 1, b: 2 }, protocol: "jsonrpc" });
  await front.dispatch({ method: "Calc.add", params: { a: 1, b: 2 }, protocol: "jsonrpc" });
  await front.dispatch({ method: "No.such", protocol: "xmlrpc" });
  metrics.gauge("queue_depth", "Depth", () => [{ labels: { queue: 'a"b\\c\n' }, value: 7 }]);
  return { metrics, text: await metrics.text() };
}

Deno.test("metrics: every family, with the scope and extra labels, parses back", async () => {
  const { text } = await scraped();
  const families = new Map((parse(text) as Parsed[]).map((f) => [f.name, f]));
  assert.deepEqual([...families.keys()], [
    "switchboard_calls_total",
    "switchboard_call_duration_seconds",
    "switchboard_calls_in_flight",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "process_heap_bytes",
    "queue_depth",
  ]);
  assert.deepEqual(families.get("switchboard_calls_total")!.metrics, [
    {
      labels: {
        interface: "Calc",
        method: "add",
        protocol: "jsonrpc",
        scope: "front",
        code: "ok",
        app: "t",
      },
      value: "2",
    },
    {
      labels: {
        interface: "",
        method: "(unknown)",
        protocol: "xmlrpc",
        scope: "front",
        code: "-32601",
        app: "t",
      },
      value: "1",
    },
  ]);
  assert.equal(families.get("switchboard_call_duration_seconds")!.type, "HISTOGRAM");
  assert.match(
    text,
    /switchboard_call_duration_seconds_bucket\{interface="Calc",method="add",protocol="jsonrpc",scope="front",le="\+Inf",app="t"\} 2\n/,
  );
  assert.match(
    text,
    /switchboard_call_duration_seconds_count\{interface="Calc",method="add",protocol="jsonrpc",scope="front",app="t"\} 2\n/,
  );
  assert.match(text, /switchboard_calls_in_flight\{protocol="jsonrpc",app="t"\} 0\n/);
  assert.deepEqual(families.get("queue_depth")!.metrics, [
    { labels: { queue: 'a"b\\c\n', app: "t" }, value: "7" },
  ]);
});

Deno.test("metrics: the process figures are this process's", async () => {
  const { text } = await scraped();
  const value = (name: string) =>
    Number(text.match(new RegExp(`^${name}\\{app="t"\\} (\\S+)$`, "m"))?.[1]);
  const rss = Deno.memoryUsage().rss;
  assert(value("process_resident_memory_bytes") > rss / 4, text);
  assert(value("process_resident_memory_bytes") < rss * 4, text);
  assert(value("process_heap_bytes") > 0);
  // The kernel's own account of this process, where there is one (Linux).
  const proc = linuxProcess();
  const cpu = value("process_cpu_seconds_total");
  const start = value("process_start_time_seconds");
  assert(cpu > 0, `cpu ${cpu}`);
  assert(start <= Date.now() / 1000, `start ${start}`);
  if (proc) {
    assert(Math.abs(cpu - proc.cpuSeconds) < 0.5, `cpu ${cpu}, kernel ${proc.cpuSeconds}`);
    // Not equal: under `deno test` each module has its own isolate, started later. (The
    // CLI's case, main isolate = process, is checked end to end in metrics_test.ts.)
    assert(start > proc.startSeconds - 1, `start ${start}, kernel ${proc.startSeconds}`);
  }
  // CPU time only grows.
  for (let i = 0; i < 2e6; i++) Math.sqrt(i);
  assert(processProbe().cpuSeconds() >= cpu);
});

/** CPU seconds and start time from /proc (clock ticks of 1/100 s), or undefined elsewhere. */
function linuxProcess(): { cpuSeconds: number; startSeconds: number } | undefined {
  let stat: string, uptime: string;
  try {
    stat = Deno.readTextFileSync("/proc/self/stat");
    uptime = Deno.readTextFileSync("/proc/uptime");
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15,
  // starttime 22 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const field = (n: number) => Number(fields[n - 3]);
  const bootSeconds = Date.now() / 1000 - Number(uptime.split(" ")[0]);
  return {
    cpuSeconds: (field(14) + field(15)) / 100,
    startSeconds: bootSeconds + field(22) / 100,
  };
}

Deno.test({
  name: "metrics: promtool accepts the whole exposition",
  ignore: skipWithout("promtool", "apt-get install prometheus"),
  async fn() {
    const { text } = await scraped();
    assert.deepEqual(await promtool(text), { code: 0, out: "" });
  },
});

Deno.test("metrics: the response carries the 0.0.4 content type; no probe, no process figures", async () => {
  const { metrics } = await scraped();
  const res = await metrics.response();
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.match(await res.text(), /^# HELP switchboard_calls_total /);
  assert.doesNotMatch(await new Metrics().text(), /process_/);
});

Deno.test("metrics: a taken or invalid name is refused when registered, not at scrape", () => {
  const metrics = new Metrics();
  assert.throws(
    () => metrics.gauge("switchboard_calls_in_flight", "again", () => []),
    /metric switchboard_calls_in_flight is already registered/,
  );
  assert.throws(() => metrics.gauge("bad name", "h", () => []), /invalid metric name "bad name"/);
});
