/**
 * The `serve --workers` cells of the bench (scripts/bench/workers.ts, workers_doc.ts) from
 * made-up figures and text: serve's port lines, the per-worker calls in a `/metrics`
 * exposition, the spread between workers, the ratios and targets round by round, the
 * 16-core projection, and the section replaced in docs/performance.md.
 */

import assert from "node:assert/strict";
import { key, type Measured, type Results } from "../../scripts/bench/cells.ts";
import {
  callsBetween,
  ONE,
  serveCommand,
  servePorts,
  spread,
  TWO,
  TWO_LOGGED,
  workerCalls,
  workerConnections,
  type WorkerRounds,
  WORKERS_HTTP,
  WORKERS_HTTP_LOAD,
  WORKERS_TCP,
  WORKERS_TCP_LOAD,
} from "../../scripts/bench/workers.ts";
import { start, threadCpu } from "../../scripts/bench/processes.ts";
import {
  ceiling,
  evenChance,
  projection,
  replaceSection,
  sectionOf,
  whyNotMore,
  WORKERS_HEADING,
  workersCells,
  workersSection,
  workersTargets,
} from "../../scripts/bench/workers_doc.ts";

Deno.test("servePorts waits for 'serving' and reads the HTTP and TCP ports", () => {
  const lines = "loaded Bench (2 methods) from file:///x.ts\n" +
    "listening on http://127.0.0.1:46455 (JSON-RPC and XML-RPC: POST /, /rpc, /RPC2)\n" +
    "listening on tcp://127.0.0.1:41389 (msgpack-rpc)\n" +
    "2 workers share these ports (SO_REUSEPORT)\n";
  assert.equal(servePorts(lines), undefined);
  assert.deepEqual(servePorts(`${lines}serving Bench\n`), { http: 46455, tcp: 41389 });
  assert.deepEqual(
    servePorts("listening on http://127.0.0.1:8000 (JSON-RPC)\nserving Bench\n"),
    { http: 8000, tcp: null },
  );
});

const exposition = [
  "# HELP switchboard_serve_worker_calls_total Calls the worker isolate answered",
  "# TYPE switchboard_serve_worker_calls_total counter",
  'switchboard_serve_worker_calls_total{worker="1"} 70',
  'switchboard_serve_worker_calls_total{worker="0"} 30',
  'switchboard_serve_worker_calls_totalx{worker="2"} 999',
  'switchboard_calls_total{method="Bench.add",code="ok"} 100',
].join("\n");

Deno.test("workerCalls reads each worker's calls, in worker order", () => {
  assert.deepEqual(workerCalls(exposition), [30, 70]);
});

Deno.test("workerCalls of one worker (no pool) adds up switchboard_calls_total", () => {
  const one = [
    "# TYPE switchboard_calls_total counter",
    'switchboard_calls_total{method="Bench.add",code="ok"} 100',
    'switchboard_calls_total{method="Bench.add",code="-32602"} 5',
    "switchboard_calls_total_other 7",
  ].join("\n");
  assert.deepEqual(workerCalls(one), [105]);
  assert.deepEqual(workerCalls(""), [0]);
});

Deno.test("callsBetween: deltas, a restarted worker counted from 0", () => {
  assert.deepEqual(callsBetween([10, 20], [15, 50]), [5, 30]);
  assert.deepEqual(callsBetween([10, 20], [4, 25]), [4, 5]);
  assert.deepEqual(callsBetween([], [3, 4]), [3, 4]);
});

Deno.test("spread: busiest ÷ idlest − 1; none for one worker; infinite for an idle one", () => {
  assert.equal(spread([100, 120]), 0.19999999999999996);
  assert.equal(spread([50, 50]), 0);
  assert.equal(spread([100]), undefined);
  assert.equal(spread([0, 10]), Infinity);
  assert.equal(spread([0, 0]), undefined);
});

/** A cell measured in rounds of these calls/s and CPU µs per call. */
function cell(cps: number[], cpuUs: number[], peakKiB = 100 * 1024): Measured {
  const best = Math.max(...cps);
  return {
    result: { cps: best, p50: 0.4, p99: 2, calls: best * 4, errors: 0 },
    cpuUs: Math.min(...cpuUs),
    peakKiB,
    generator: { busy: 0.5, wait: 0.1 },
    rounds: cps.map((c, i) => ({ cps: c, cpuUs: cpuUs[i] })),
  };
}

function figures(): { results: Results; rounds: WorkerRounds } {
  const results: Results = new Map();
  const set = (suite: string, load: string, server: string, m: Measured) =>
    results.set(key(suite, "add", load, server), m);
  const h = WORKERS_HTTP_LOAD.label, t = WORKERS_TCP_LOAD.label;
  set(WORKERS_HTTP, h, ONE, cell([10_000, 12_000], [20, 21]));
  set(WORKERS_HTTP, h, TWO, cell([15_000, 18_000], [20.5, 21.5], 150 * 1024));
  set(WORKERS_HTTP, h, TWO_LOGGED, cell([14_000, 17_000], [22, 23]));
  set(WORKERS_TCP, t, ONE, cell([100_000, 100_000], [2, 2]));
  set(WORKERS_TCP, t, TWO, cell([130_000, 150_000], [2.2, 2.4]));
  set(WORKERS_TCP, t, TWO_LOGGED, cell([120_000, 140_000], [3, 3]));
  const rounds: WorkerRounds = new Map();
  const r = (perWorker: number[] | undefined, mainUs: number, workersUs: number) => ({
    perWorker,
    mainUs,
    workersUs,
    otherUs: 0.5,
  });
  rounds.set(`${WORKERS_HTTP}|${ONE}`, [r([40_000], 19, 0), r([48_000], 20, 0)]);
  rounds.set(`${WORKERS_HTTP}|${TWO}`, [
    { ...r([30_000, 30_000], 0.1, 20), connections: [18, 15] },
    { ...r([40_000, 32_000], 0.1, 21), connections: [20, 13] },
  ]);
  rounds.set(`${WORKERS_HTTP}|${TWO_LOGGED}`, [r([28_000, 28_000], 1.1, 20.5), undefined]);
  rounds.set(`${WORKERS_TCP}|${ONE}`, [r([400_000], 2, 0), r([400_000], 2, 0)]);
  rounds.set(`${WORKERS_TCP}|${TWO}`, [
    { ...r([260_000, 260_000], 0, 2), connections: [16, 16] },
    r(undefined, 0, 2.2),
  ]);
  rounds.set(`${WORKERS_TCP}|${TWO_LOGGED}`, [
    r([240_000, 240_000], 0.5, 2.5),
    r(undefined, 0.6, 2.4),
  ]);
  return { results, rounds };
}

Deno.test("workersCells pairs the rounds of 2 workers with 1's, and keeps the spreads", () => {
  const { results, rounds } = figures();
  const [http, tcp] = workersCells(results, rounds);
  assert.deepEqual(http.speedup, [1.5, 1.5]);
  assert.deepEqual(http.cpuRatio.map((x) => +x.toFixed(3)), [1.025, 1.024]);
  assert.deepEqual(http.spreads.map((x) => +x.toFixed(3)), [0, 0.25]);
  assert.deepEqual(tcp.speedup, [1.3, 1.5]);
  assert.deepEqual(tcp.spreads, [0]); // the round without /metrics has none
  assert.deepEqual(http.connectionSpreads.map((x) => +x.toFixed(3)), [0.2, 0.538]);
  assert.deepEqual(tcp.connectionSpreads, [0]);
  assert.deepEqual(http.threads[TWO_LOGGED], { main: 1.1, workers: 20.5, other: 0.5 });
});

Deno.test("workersTargets: speed-up by the median, spread by the worst round, CPU by the median", () => {
  const { results, rounds } = figures();
  const lines = workersTargets(workersCells(results, rounds));
  assert.equal(lines.length, 8);
  assert.match(lines[0], /median 1\.50×.*: met$/);
  assert.match(lines[1], /median 1\.40×.*: met$/);
  assert.match(lines[2], /worst round 25(\.0)?%: MISSED$/);
  assert.match(lines[3], /worst round 0(\.0)?%: met$/);
  assert.match(
    lines[4],
    /connections spread .* worst round 54% .*40(\.3)?% of rounds.*: MISSED$/,
  );
  assert.match(lines[5], /connections spread .* worst round 0(\.0)?% .*: met$/);
  assert.match(lines[6], /: met$/); // +2.4 %
  assert.match(lines[7], /: MISSED$/); // +15 %
});

Deno.test("workersTargets says 'not measured' where a cell has no rounds", () => {
  const lines = workersTargets(workersCells(new Map(), new Map()));
  assert.equal(lines.length, 8);
  for (const line of lines) assert.match(line, /not measured$/);
});

Deno.test("projection: log relay, the rest, and the workers one main isolate keeps up with", () => {
  const { results, rounds } = figures();
  const p = projection(workersCells(results, rounds));
  const [http, tcp] = p.cells;
  assert.equal(+http.logRelayUs.toFixed(3), 1);
  assert.equal(http.workerUs, 21);
  assert.equal(+http.saturatesAt.toFixed(3), +(21 / 1.1).toFixed(3));
  assert.equal(+tcp.saturatesAt.toFixed(3), +(2.9 / 0.5).toFixed(3));
  assert.equal(p.perWorkerMiB, 50);
  const section = workersSection(workersCells(results, rounds), rounds, {
    when: "now",
    load: "1.0",
    timing: "2 rounds",
  });
  assert.ok(section.startsWith(`${WORKERS_HEADING}\n`));
  assert.doesNotMatch(section, /⚠/);
  const busy = workersSection(workersCells(results, rounds), rounds, {
    when: "now",
    load: "9.0",
    timing: "2 rounds",
    busy: true,
  });
  assert.match(busy, /⚠ The machine was busy \(load average 9\.0/);
  assert.match(section, /### On 16 cores/);
  assert.match(section, /at about 6 workers/);
  assert.match(section, /added 50 MiB/);
});

Deno.test("replaceSection replaces the section to the next heading, or inserts it", () => {
  const section = `${WORKERS_HEADING}\n\nnew\n\n### On 16 cores\n\nreasons\n`;
  const doc = "# Performance\n\nintro\n\n## Every cell of the run\n\ntable\n";
  const inserted = replaceSection(doc, WORKERS_HEADING, section);
  assert.equal(
    inserted,
    `# Performance\n\nintro\n\n${section}\n## Every cell of the run\n\ntable\n`,
  );
  const again = replaceSection(inserted, WORKERS_HEADING, section.replace("new", "newer"));
  assert.equal(again, inserted.replace("new\n", "newer\n"));
  // Last on the page, it runs to the end.
  const last = replaceSection(`intro\n\n${section}`, WORKERS_HEADING, `${WORKERS_HEADING}\n\nx\n`);
  assert.equal(last, `intro\n\n${WORKERS_HEADING}\n\nx\n`);
  // No place to put it before: appended.
  assert.equal(replaceSection("# P\n", WORKERS_HEADING, section), `# P\n\n${section}`);
  // First on the page.
  assert.equal(
    replaceSection(`${section}\n## Next\n`, WORKERS_HEADING, "## `serve --workers`\n\ny\n"),
    "## `serve --workers`\n\ny\n\n## Next\n",
  );
});

Deno.test({
  name: "a real serve --workers 2, started as the bench starts it: calls counted per worker",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const running = await start(serveCommand(2, false), false, servePorts);
    try {
      assert.ok(running.ports.http && running.ports.tcp);
      const metrics = async () =>
        workerCalls(
          await (await fetch(`http://127.0.0.1:${running.ports.http}/metrics`)).text(),
        );
      const before = await metrics();
      assert.equal(before.length, 2);
      const calls = 20;
      for (let i = 0; i < calls; i++) {
        const response: Response = await fetch(`http://127.0.0.1:${running.ports.http}/rpc`, {
          method: "POST",
          headers: { "content-type": "application/json", connection: "close" },
          body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "Bench.add", params: [i, 1] }),
        });
        assert.equal((await response.json()).result, i + 1);
      }
      const per = callsBetween(before, await metrics());
      assert.equal(per.reduce((a, b) => a + b, 0), calls);
      // The process's threads: the main isolate and two `worker-N` threads that did the work.
      const cpu = threadCpu(running.pid);
      assert.ok(cpu.workers > 0, JSON.stringify(cpu));
    } finally {
      await running.stop();
    }
  },
});

Deno.test("sectionOf takes a section to the next heading, or to the end; none when absent", () => {
  const section = `${WORKERS_HEADING}\n\nfigures\n\n### On 16 cores\n\nreasons\n`;
  assert.equal(sectionOf(`# P\n\n${section}\n## Every cell\n\nt\n`, WORKERS_HEADING), section);
  assert.equal(sectionOf(`# P\n\n${section}\n\n`, WORKERS_HEADING), section);
  assert.equal(sectionOf(`${section}## Next\n`, WORKERS_HEADING), section);
  assert.equal(sectionOf("# P\n\n## Every cell\n", WORKERS_HEADING), undefined);
  // Written again into a page without it, it comes back the same.
  const page = replaceSection("# P\n\n## Every cell of the run\n\nt\n", WORKERS_HEADING, section);
  assert.equal(sectionOf(page, WORKERS_HEADING), section);
});

Deno.test("workerConnections reads each worker's connections of one transport", () => {
  const text = [
    'switchboard_serve_worker_connections{worker="1",transport="tcp"} 12',
    'switchboard_serve_worker_connections{worker="0",transport="tcp"} 20',
    'switchboard_serve_worker_connections{worker="0",transport="http"} 1',
    'switchboard_serve_worker_connections{worker="1",transport="http"} 0',
  ].join("\n");
  assert.deepEqual(workerConnections(text, "tcp"), [20, 12]);
  assert.deepEqual(workerConnections(text, "http"), [1, 0]);
  assert.equal(workerConnections(text, "amqp"), undefined);
  assert.equal(workerConnections(exposition, "tcp"), undefined);
});

Deno.test("ceiling: the cores over server + generator CPU per call, against 1 worker", () => {
  // 2 µs of server and 0.5 core of generator at 250,000 calls/s (2 µs a call): 2 cores give
  // 500,000 calls/s at most, 1.25× one worker's 400,000.
  const one: Measured = { result: { cps: 400_000, p50: 0, p99: 0, calls: 1, errors: 0 } };
  const two: Measured = {
    result: { cps: 250_000, p50: 0, p99: 0, calls: 1, errors: 0 },
    cpuUs: 2,
    generator: { busy: 0.5, wait: 0 },
  };
  assert.equal(ceiling(one, two, 2), 1.25);
  assert.equal(ceiling(one, { ...two, generator: undefined }, 2), undefined);
  assert.equal(ceiling(undefined, two, 2), undefined);
});

Deno.test("evenChance: the kernel's even odds for 2 workers, within 20 %", () => {
  assert.equal(evenChance(2), 0.5); // 1/1 only
  assert.equal(evenChance(10), 252 / 1024); // 5/5 only: 6/4 is 50 %
  assert.equal(+evenChance(32).toFixed(4), 0.4034); // 15/17, 16/16, 17/15
});

Deno.test("whyNotMore puts each cell's CPU per call and ceiling in", () => {
  const { results, rounds } = figures();
  const text = whyNotMore(workersCells(results, rounds, 2));
  assert.match(text, /at most \d+\.\d\d× of one worker's calls\/s/);
  assert.match(text, /40(\.3)?% of rounds/);
});
