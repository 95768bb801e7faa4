/**
 * `deno task bench`: Switchboard side by side with peer RPC servers and with the bare Deno
 * servers doing the same I/O (the ceilings). Starts each server as its own process pinned
 * to CPU 0, drives it from CPU 1 (HTTP: `wrk`; msgpack-rpc: a Node + msgpackr client; gRPC:
 * grpc-js's client; see generators.ts), reads the server's CPU time and peak RSS from
 * /proc, prints one Markdown table with the ratios, the idle-connection memory and the
 * targets met or missed, and writes docs/performance.md (performance_doc.ts).
 *
 * Flags: `--quick` (only the cells of docs/performance.md: `add`, JSON-RPC and XML-RPC with
 * 32 connections, msgpack-rpc with 64 and 512 in flight; against Switchboard, the ceilings
 * and one peer each), `--only http,xmlrpc,tcp,idle,observe,size,coldstart` (a subset;
 * `observe` is the cost of metrics, access log and tracing, and takes a few minutes; `size`
 * is the minified + gzipped browser bundle of "." next to npm json-rpc-2.0's; `coldstart`
 * is the wall time of a cold `switchboard call` and of `serve` to its first answer, see
 * `coldstart.ts`), `--cold-runs N` (runs per cold-start figure, default 11), `--warmup MS`
 * (per round, default 1000; wrk takes whole seconds), `--duration MS` (measured per cell,
 * split over the rounds, default 16000), `--rounds N` (default 4), `--idle N` (idle
 * connections, default 1000), `--baseline DIR` (another checkout run side by side, with a
 * table of CPU per call against it), `--switchboard-only` (no peers), `--no-pin` (no CPU
 * pinning), `--workers-only` (just `serve --workers 2` against `--workers 1`, workers.ts; the
 * `workers` suite of `--only`), `--streams-only` (just the stream benchmarks, streams.ts: items/s
 * against grpc-js, slow reader, idle streams, cancellation, WebSocket calls; the `streams`
 * suite of `--only`; with `--slow-reader MS`, default 15000, the issue's figure is 60000,
 * `--idle-streams N`, default 10000, `--cancels N`, default 1000), `--no-doc` (leave
 * docs/performance.md alone; it is written whole only when the http, xmlrpc and tcp suites all
 * ran with the peers; the workers and streams suites alone replace their own sections).
 *
 * @module
 */

import { openIdle } from "./load.ts";
import { denoAloneCommands, observeCommands } from "./observe.ts";
import { measureSizes, sizeTable } from "./size.ts";
import { type ColdStart, coldStartTable, runColdStart } from "./coldstart.ts";
import { type Options, parseOptions } from "./options.ts";
import { deno, has, loadAverage, memory, pinSelf, ROOT, start } from "./processes.ts";
import {
  HTTP_LOADS,
  type Load,
  METHODS,
  PROTOCOL,
  type Results,
  runSuite,
  type ServerDef,
  TCP_LOADS,
} from "./cells.ts";
import {
  type Generators,
  httpCell,
  httpGeneratorName,
  tcpCell,
  tcpGeneratorName,
} from "./generators.ts";
import {
  BASELINE,
  baselineTable,
  idleTable,
  observeTable,
  table,
  TABLE_NOTES,
  type TableRun,
} from "./report.ts";
import { coldTarget, sizeTarget, targets, verdict } from "./targets.ts";
import { ensurePeers, HEADLINE_SERVERS, suiteServers } from "./peers.ts";
import { HEADLINES, performanceDoc } from "./performance_doc.ts";
import { type WorkerRounds, workersSuites } from "./workers.ts";
import { nativeGenerator } from "./native_generator.ts";
import { runStreams, type StreamRun } from "./streams.ts";
import { STREAMS_HEADING, streamsSection, streamTargets } from "./stream_doc.ts";
import {
  replaceSection,
  sectionOf,
  WORKERS_HEADING,
  workersCells,
  workersSection,
} from "./workers_doc.ts";

/** The suites' runs, as the options choose them. */
async function plan(
  options: Options,
  g: Generators,
  peersMissing: string | undefined,
): Promise<TableRun[]> {
  const servers = await suiteServers(g, peersMissing);
  const methods = options.quick ? ["add" as const] : METHODS;
  const runs: TableRun[] = [];
  const add = (suite: TableRun["suite"], loads: Load[], list: ServerDef[]) => {
    if (!options.only.has(suite)) return;
    let chosen = options.switchboardOnly ? list.slice(0, 1) : list;
    if (options.quick) chosen = chosen.filter((s) => HEADLINE_SERVERS.has(s.name));
    if (options.baseline) {
      chosen = [chosen[0], baselineServer(chosen[0], options.baseline), ...chosen.slice(1)];
    }
    // --quick keeps the loads of docs/performance.md's cells.
    const headline = (l: Load) => HEADLINES.some((h) => h.suite === suite && h.load === l.label);
    const kept = options.quick ? loads.filter(headline) : loads;
    runs.push({ suite, loads: kept, servers: chosen, methods });
  };
  add("http", HTTP_LOADS, servers.http);
  add("xmlrpc", HTTP_LOADS, servers.xmlrpc);
  add("tcp", TCP_LOADS, servers.tcp);
  return runs;
}

/** The `--baseline` checkout's server, in the place of ours. */
function baselineServer(ours: ServerDef, dir: string): ServerDef {
  return {
    ...ours,
    name: BASELINE,
    cmd: [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      "--config",
      `${dir}/deno.json`,
      `${dir}/scripts/bench/switchboard_server.ts`,
    ],
  };
}

/** The cost of metrics, access log and tracing (`--only observe`). */
async function runObserve(options: Options, g: Generators, results: Results): Promise<void> {
  console.error("cost of observability:");
  const servers = (cell: ServerDef["cell"]) =>
    observeCommands(deno("switchboard_server.ts")).map(({ name, cmd }) => ({ name, cmd, cell }));
  const json = httpCell("/rpc", "json", g);
  await runSuite("observe-http", servers(json), [HTTP_LOADS[1]], options, results, ["add"]);
  await runSuite("observe-tcp", servers(tcpCell(g)), [TCP_LOADS[2]], options, results, ["add"]);
  await runSuite(
    "observe-deno",
    denoAloneCommands(deno("bare_http.ts")).map(({ name, cmd }) => ({ name, cmd, cell: json })),
    [HTTP_LOADS[1]],
    options,
    results,
    ["add"],
  );
}

/**
 * `serve --workers 2` against `--workers 1` (workers.ts): unpinned, servers and generators
 * sharing every core (an affinity this process has, pinned, would pass to them: undone).
 */
async function runWorkers(
  options: Options,
  g: Generators,
  results: Results,
): Promise<{ rounds: WorkerRounds; generators: string }> {
  console.error("serve --workers:");
  const cpus = navigator.hardwareConcurrency;
  const native = await nativeGenerator();
  const unpinned: Generators = {
    ...g,
    pin: false,
    cpus: (await has("taskset")) && cpus >= 2 ? `0-${cpus - 1}` : undefined,
    // A generator far cheaper per call than the server: it shares the cores with it here.
    ...(native ? { native } : {}),
  };
  const rounds: WorkerRounds = new Map();
  for (const { suite, load, servers } of workersSuites(unpinned, rounds)) {
    await runSuite(suite, servers, [load], { ...options, pin: false }, results, ["add"]);
  }
  return {
    rounds,
    generators: `HTTP by ${httpGeneratorName(unpinned)}, msgpack-rpc by ${
      tcpGeneratorName(unpinned)
    }`,
  };
}

/** RSS per idle TCP connection of each msgpack-rpc server. */
async function runIdle(
  options: Options,
  servers: ServerDef[],
): Promise<Map<string, number | string>> {
  console.error(`idle connections (${options.idleConnections}):`);
  const idle = new Map<string, number | string>();
  for (const server of servers.filter((s) => !s.name.startsWith("grpc"))) {
    if (typeof server.cmd === "string") {
      idle.set(server.name, server.cmd);
      continue;
    }
    const running = await start(server.cmd, options.pin);
    try {
      if (!running.ports.tcp) {
        idle.set(server.name, "n/a (not built)");
        continue;
      }
      await new Promise((r) => setTimeout(r, 500));
      const before = memory(running.pid).rss;
      const close = await openIdle(running.ports.tcp, options.idleConnections);
      await new Promise((r) => setTimeout(r, 1500));
      const after = memory(running.pid).rss;
      close();
      const perConn = (after - before) / options.idleConnections;
      idle.set(server.name, perConn);
      console.error(`  ${server.name}: ${perConn.toFixed(1)} KiB per idle connection`);
    } finally {
      await running.stop();
    }
  }
  return idle;
}

async function nodeVersion(): Promise<string> {
  try {
    const out = await new Deno.Command("node", { args: ["--version"] }).output();
    return `Node ${new TextDecoder().decode(out.stdout).trim()}`;
  } catch {
    return "no Node";
  }
}

async function main(): Promise<void> {
  const options = parseOptions(Deno.args);
  // Measured first: bundling takes CPU that would disturb the load cells.
  const sizes = options.only.has("size") ? await measureSizes() : undefined;
  // Before pinning: a cold start is timed with every CPU, as a person's shell has them.
  let cold: ColdStart | undefined;
  if (options.only.has("coldstart")) {
    console.error(`cold start (median of ${options.coldRuns}):`);
    cold = await runColdStart(options.coldRuns);
  }
  if ([...options.only].every((s) => s === "size" || s === "coldstart")) {
    console.log(
      [
        ...(sizes ? [sizeTable(sizes), ""] : []),
        ...(cold ? [coldStartTable(cold), ""] : []),
        "Targets:",
        ...(sizes ? [verdict(sizeTarget(sizes))] : []),
        ...(cold ? [verdict(coldTarget(cold))] : []),
      ].join("\n"),
    );
    return;
  }
  const date = new Date();
  const began = performance.now();
  const loadAtStart = loadAverage();
  const cpus = navigator.hardwareConcurrency;
  options.pin = options.pin && (await has("taskset")) && cpus >= 2;
  // The JavaScript generators (load.ts) run in this process: on the generators' core too.
  if (options.pin && [...options.only].some((s) => s !== "workers" && s !== "streams")) {
    await pinSelf();
  }
  const peersMissing = await ensurePeers();
  const g: Generators = {
    wrk: await has("wrk"),
    node: peersMissing === undefined,
    pin: options.pin,
  };
  const results: Results = new Map();
  const runs = await plan(options, g, peersMissing);
  for (const run of runs) {
    console.error(`${PROTOCOL[run.suite]}:`);
    await runSuite(
      run.suite,
      run.servers,
      run.loads,
      options,
      results,
      run.methods,
    );
  }
  if (options.only.has("observe")) await runObserve(options, g, results);
  const workersRun = options.only.has("workers")
    ? await runWorkers(options, g, results)
    : undefined;
  const workerRounds = workersRun?.rounds;
  const tcpServers = runs.find((r) => r.suite === "tcp")?.servers ??
    (await suiteServers(g, peersMissing)).tcp;
  const idle = options.only.has("idle") ? await runIdle(options, tcpServers) : new Map();
  let streamRun: StreamRun | undefined;
  if (options.only.has("streams")) {
    console.error("streams:");
    streamRun = await runStreams(options, g.node);
  }

  const seconds = (performance.now() - began) / 1000;
  const roundMs = options.durationMs / options.rounds;
  const out: string[] = [
    `Switchboard benchmark — ${date.toISOString().slice(0, 16).replace("T", " ")} UTC, ` +
    `${cpus} cores, Deno ${Deno.version.deno}, ${await nodeVersion()}; ` +
    `per cell: best of ${options.rounds} interleaved rounds of ${options.warmupMs} ms ` +
    `warm-up + ${Math.round(roundMs)} ms; HTTP by ${httpGeneratorName(g)}, msgpack-rpc by ` +
    `${tcpGeneratorName(g)}; ` +
    `${
      options.pin && [...options.only].some((s) => s !== "workers")
        ? "servers pinned to CPU 0, load generators to CPU 1 (serve --workers cells and WebSocket calls unpinned)"
        : "no CPU pinning"
    }; ` +
    `run took ${seconds.toFixed(0)} s; load average ${loadAtStart} at the start, ` +
    `${loadAverage()} at the end.`,
    "",
  ];
  const fullTable = runs.length ? table(runs, results) : "";
  if (runs.length) out.push(fullTable, "");
  const workers = workerRounds &&
    workersSection(workersCells(results, workerRounds), workerRounds, {
      when: `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`,
      load: `${loadAtStart} at the start, ${loadAverage()} at the end`,
      busy: Math.max(Number(loadAtStart), Number(loadAverage())) > cpus + 1,
      timing: `${options.rounds} rounds × ${(roundMs / 1000).toFixed(1)} s per server ` +
        `(after ${(options.warmupMs / 1000).toFixed(1)} s of warm-up each)`,
      generators: workersRun?.generators,
    });
  if (workers) out.push(workers, "");
  const streams = streamRun && streamsSection(streamRun, {
    when: `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`,
    load: `${loadAtStart} at the start, ${loadAverage()} at the end`,
    pinned: options.pin,
    busy: Math.max(Number(loadAtStart), Number(loadAverage())) > cpus + 1,
  });
  if (streams) out.push(streams, "");
  if (idle.size) out.push(idleTable(idle, options.idleConnections), "");
  if (options.only.has("observe")) out.push(observeTable(results), "");
  if (sizes) out.push(sizeTable(sizes), "");
  if (cold) out.push(coldStartTable(cold), "");
  if (options.baseline) out.push(baselineTable(results, options.baseline), "");
  out.push(
    ...(runs.length ? [TABLE_NOTES, ""] : []),
    "Targets:",
    // --quick leaves most targets' cells out: only those it measured are shown.
    ...targets(results, idle, options.only)
      .filter((t) => !options.quick || t.value !== undefined).map(verdict),
    ...(sizes ? [verdict(sizeTarget(sizes))] : []),
    ...(cold ? [verdict(coldTarget(cold))] : []),
    ...(streamRun ? streamTargets(streamRun).map(verdict) : []),
  );
  console.log(out.join("\n"));

  const complete = ["http", "xmlrpc", "tcp"].every((s) => options.only.has(s as never));
  const path = `${ROOT}docs/performance.md`;
  let doc: string | undefined;
  if (options.writeDoc && complete && !options.switchboardOnly && !peersMissing) {
    doc = performanceDoc(results, {
      date,
      rounds: options.rounds,
      roundMs,
      warmupMs: options.warmupMs,
      pinned: options.pin,
      httpGenerator: httpGeneratorName(g),
      tcpGenerator: tcpGeneratorName(g),
      loadAtStart,
      loadAtEnd: loadAverage(),
      fullTable,
      notes: TABLE_NOTES,
    });
  } else if (options.writeDoc && (workers || streams)) {
    // The workers or streams suite alone: its section of the page as it stands, the rest kept.
    doc = await Deno.readTextFile(path).catch(() => "# Performance\n");
  }
  if (doc !== undefined) {
    // A run without the workers suite keeps the page's workers section as it was.
    const kept = workers ??
      sectionOf(await Deno.readTextFile(path).catch(() => ""), WORKERS_HEADING);
    if (kept) doc = replaceSection(doc, WORKERS_HEADING, kept);
    const keptStreams = streams ??
      sectionOf(await Deno.readTextFile(path).catch(() => ""), STREAMS_HEADING);
    if (keptStreams) doc = replaceSection(doc, STREAMS_HEADING, keptStreams);
    await Deno.writeTextFile(path, doc);
    // Formatted as `deno fmt --check` wants every committed file.
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path], cwd: ROOT }).output();
    console.error(`wrote ${path}`);
  }
}

if (import.meta.main) await main();
