// The text exposition writer, read back by an independent parser (npm
// `parse-prometheus-text-format`) and checked by Prometheus's own `promtool`.

import assert from "node:assert/strict";
import parse from "parse-prometheus-text-format";
import { CONTENT_TYPE, type Family, writeExposition } from "../../src/observe/exposition.ts";
import { skipWithout } from "../fixtures/serve_process.ts";
import { promtool } from "../fixtures/promtool.ts";

const NO_PROMTOOL = skipWithout("promtool", "apt-get install prometheus");

const awkward = 'back\\slash "quoted"\nnext line';

Deno.test("exposition: label values escape backslash, quote and newline; help escapes too", () => {
  const text = writeExposition([{
    name: "jobs_total",
    help: "Jobs \\ done\nby queue",
    type: "counter",
    samples: [{ labels: { queue: awkward, kind: "" }, value: 3 }],
  }]);
  assert.equal(
    text,
    "# HELP jobs_total Jobs \\\\ done\\nby queue\n" +
      "# TYPE jobs_total counter\n" +
      'jobs_total{queue="back\\\\slash \\"quoted\\"\\nnext line",kind=""} 3\n',
  );
  const [family] = parse(text);
  assert.equal(family.name, "jobs_total");
  assert.equal(family.type, "COUNTER");
  assert.equal(family.help, "Jobs \\ done\nby queue");
  assert.deepEqual(family.metrics, [{ value: "3", labels: { queue: awkward, kind: "" } }]);
});

Deno.test("exposition: histogram buckets are cumulative, end in +Inf, with _sum and _count", () => {
  const family: Family = {
    name: "latency_seconds",
    help: "Latency",
    type: "histogram",
    samples: [
      { labels: { op: "read" }, bounds: [0.1, 0.5, 1], counts: [1, 0, 2, 3], sum: 9.25 },
      { labels: { op: "write" }, bounds: [0.1, 0.5, 1], counts: [0, 0, 0, 0], sum: 0 },
    ],
  };
  const text = writeExposition([family]);
  assert.equal(
    text.split("\n").slice(2, 8).join("\n"),
    [
      'latency_seconds_bucket{op="read",le="0.1"} 1',
      'latency_seconds_bucket{op="read",le="0.5"} 1',
      'latency_seconds_bucket{op="read",le="1"} 3',
      'latency_seconds_bucket{op="read",le="+Inf"} 6',
      'latency_seconds_sum{op="read"} 9.25',
      'latency_seconds_count{op="read"} 6',
    ].join("\n"),
  );
  assert.match(text, /latency_seconds_bucket\{op="write",le="\+Inf"\} 0\n/);
  assert.match(text, /latency_seconds_count\{op="write"\} 0\n$/);
  // The npm parser drops the labels, sum and count of labelled histograms; read an
  // unlabelled one back with it.
  const [parsed] = parse(writeExposition([{ ...family, samples: [family.samples[0]] }].map(
    (f) => ({ ...f, samples: f.samples.map((h) => ({ ...h, labels: {} })) }) as Family,
  )));
  assert.equal(parsed.type, "HISTOGRAM");
  assert.deepEqual(parsed.metrics, [
    { buckets: { "0.1": "1", "0.5": "1", "1": "3", "+Inf": "6" }, sum: "9.25", count: "6" },
  ]);
});

Deno.test("exposition: special values, unlabelled samples, extra labels that never override", () => {
  const text = writeExposition([
    {
      name: "odd",
      help: "",
      type: "gauge",
      samples: [
        { labels: {}, value: NaN },
        { labels: { s: "a" }, value: Infinity },
        { labels: { s: "b" }, value: -Infinity },
        { labels: { s: "c", process: "own" }, value: 1e-7 },
      ],
    },
  ], { process: "api" });
  assert.equal(
    text,
    "# TYPE odd gauge\n" +
      'odd{process="api"} NaN\n' +
      'odd{s="a",process="api"} +Inf\n' +
      'odd{s="b",process="api"} -Inf\n' +
      'odd{s="c",process="own"} 1e-7\n',
  );
  const [parsed] = parse(text);
  assert.deepEqual(parsed.metrics.map((m: { value: string }) => m.value), [
    "NaN",
    "+Inf",
    "-Inf",
    "1e-7",
  ]);
  assert.equal(writeExposition([]), "");
});

Deno.test("exposition: invalid names and malformed histograms are refused", () => {
  const gauge = (name: string, labels: Record<string, string> = {}): Family => ({
    name,
    help: "h",
    type: "gauge",
    samples: [{ labels, value: 1 }],
  });
  const refuses = (families: Family[], message: RegExp, extra?: Record<string, string>) =>
    assert.throws(() => writeExposition(families, extra), (e: unknown) => {
      assert(e instanceof TypeError);
      assert.match(e.message, message);
      return true;
    });
  refuses([gauge("9lives")], /invalid metric name "9lives"/);
  refuses([gauge("has-dash")], /invalid metric name/);
  refuses([gauge("")], /invalid metric name/);
  refuses([gauge("ok", { "bad-label": "x" })], /invalid label name "bad-label"/);
  refuses([gauge("ok", { __reserved: "x" })], /invalid label name "__reserved"/);
  refuses([gauge("ok")], /invalid label name "1x"/, { "1x": "y" });
  refuses([gauge("twice"), gauge("twice")], /metric twice written twice/);
  assert.equal(
    writeExposition([gauge("ns:sub_total", { _x: "ok" })]).split("\n")[2],
    'ns:sub_total{_x="ok"} 1',
  );

  const histogram = (bounds: number[], counts: number[], labels = {}): Family => ({
    name: "h",
    help: "h",
    type: "histogram",
    samples: [{ labels, bounds, counts, sum: 0 }],
  });
  refuses([histogram([1, 2], [1, 2])], /2 bounds need 3 counts/);
  refuses([histogram([2, 1], [0, 0, 0])], /strictly increasing/);
  refuses([histogram([1, 1], [0, 0, 0])], /strictly increasing/);
  refuses([histogram([1], [0, 0], { le: "1" })], /"le" is the writer's label/);
});

Deno.test({
  name: "exposition: promtool accepts the output and rejects a broken exposition",
  ignore: NO_PROMTOOL,
  async fn() {
    const text = writeExposition([
      {
        name: "jobs_total",
        help: "Jobs done",
        type: "counter",
        samples: [{ labels: { queue: awkward }, value: 3 }],
      },
      {
        name: "latency_seconds",
        help: "Latency",
        type: "histogram",
        samples: [{ labels: { op: "r" }, bounds: [0.1, 1], counts: [1, 2, 3], sum: 4 }],
      },
      {
        name: "room_temperature_celsius",
        help: "Odd values",
        type: "gauge",
        samples: [NaN, Infinity, -Infinity, 1e-7].map((value, i) => ({
          labels: { room: String(i) },
          value,
        })),
      },
    ]);
    assert.deepEqual(await promtool(text), { code: 0, out: "" });
    // The same tool must catch what the writer guards against, or this check proves nothing.
    const broken = await promtool(text.replace('op="r"', 'op="r\n"'));
    assert.notEqual(broken.code, 0, broken.out);
  },
});

Deno.test("exposition: the content type is the 0.0.4 text format", () => {
  assert.equal(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});
