/**
 * docs/performance.md's table (scripts/bench/performance_doc.ts) from made-up figures: the
 * ranges and round-by-round ratios, and the verdict on the load generator in each direction.
 */

import assert from "node:assert/strict";
import { key, type Measured, type Results } from "../../scripts/bench/cells.ts";
import { performanceDoc } from "../../scripts/bench/performance_doc.ts";
import { BARE_HTTP, BARE_TCP, JAYSON, MSGPACK5RPC, NPM_XMLRPC } from "../../scripts/bench/peers.ts";
import { SWITCHBOARD } from "../../scripts/bench/report.ts";

/** A cell measured in rounds of these calls/s and CPU µs per call. */
function cell(cps: number[], cpuUs: number[]): Measured {
  const best = Math.max(...cps);
  return {
    result: { cps: best, p50: 0.4, p99: 2, calls: best * 4, errors: 0 },
    cpuUs: Math.min(...cpuUs),
    server: { busy: 0.97, wait: 0.02 },
    generator: { busy: 0.55, wait: 0.01 },
    rounds: cps.map((c, i) => ({ cps: c, cpuUs: cpuUs[i] })),
  };
}

function results(): Results {
  const r: Results = new Map();
  const set = (suite: string, load: string, server: string, m: Measured) =>
    r.set(key(suite, "add", load, server), m);
  set("http", "32 callers", SWITCHBOARD, cell([54_000, 55_000], [13, 12.5]));
  set("http", "32 callers", BARE_HTTP, cell([77_000, 78_000], [9, 9]));
  set("http", "32 callers", JAYSON, cell([29_000, 29_000], [30, 30]));
  set("xmlrpc", "32 callers", SWITCHBOARD, cell([33_000, 34_000], [20, 20]));
  set("xmlrpc", "32 callers", NPM_XMLRPC, cell([7_100, 7_500], [100, 100]));
  set("tcp", "64 in flight, 1 conn", SWITCHBOARD, cell([500_000, 520_000], [0.9, 0.9]));
  // The ceiling no faster than Switchboard: the generator may be what limits both.
  set("tcp", "64 in flight, 1 conn", BARE_TCP, cell([490_000, 500_000], [0.6, 0.6]));
  set("tcp", "64 in flight, 1 conn", MSGPACK5RPC, cell([110_000, 110_000], [5, 5]));
  return r;
}

const run = (load: string) => ({
  date: new Date("2026-12-07T23:00:00Z"),
  rounds: 2,
  roundMs: 4000,
  warmupMs: 1000,
  pinned: true,
  httpGenerator: "wrk (1 thread)",
  tcpGenerator: "Node + msgpackr",
  loadAtStart: load,
  loadAtEnd: load,
  fullTable: "(full table)",
  notes: "(notes)",
});

const row = (doc: string, start: string) =>
  doc.split("\n").find((l) => l.startsWith(`| ${start}`)) ?? "";

Deno.test("performanceDoc: each cell's ranges, ratios to the ceiling and peer, and the generator's evidence", () => {
  const doc = performanceDoc(results(), run("0.5"));
  const json = row(doc, "JSON-RPC");
  assert.match(json, /54\.0k–55\.0k\/s \(12\.5 µs\/call\)/);
  assert.match(json, /77\.0k–78\.0k\/s \(9\.0 µs\/call\)/);
  assert.match(json, /\| 70%–71% \|/); // 54/77 and 55/78, round by round
  assert.match(json, /\| 69%–72% \|/); // the ceiling's CPU per call ÷ ours: 9/13, 9/12.5
  assert.match(json, /jayson 29\.0k–29\.0k\/s \| 1\.9× \|/);
  assert.match(json, /yes: the ceiling reached 78\.0k\/s, 1\.42× ours; server 97% on CPU/);
  const xml = row(doc, "XML-RPC");
  assert.match(xml, /yes: bare Deno\.serve \(JSON add, same 32 connections\) reached 78\.0k\/s/);
  const tcp = row(doc, "msgpack-rpc `add`, 64");
  assert.match(tcp, /NO, the ceiling went no faster/);
  // A cell that was not run says so instead of a figure.
  assert.match(row(doc, "msgpack-rpc `add`, 512"), /\| – \|/);
  assert.doesNotMatch(doc, /The machine was busy/);
  assert.match(doc, /- Commit: `([0-9a-f]{40}|unknown)`/); // unknown outside a git checkout
  assert.match(doc, /servers pinned to CPU 0, load generators to CPU 1; 2 rounds × 4\.0 s/);
});

Deno.test("performanceDoc: a load average past the cores gets the warning", () => {
  const doc = performanceDoc(results(), run("40"));
  assert.match(doc, /⚠ The machine was busy \(load average up to 40 on \d+ cores\)/);
});
