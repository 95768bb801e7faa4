/**
 * The `serve --workers` part of the report and of docs/performance.md: `--workers 2` against
 * `--workers 1` cell by cell (calls/s, CPU per call, how the calls spread between the
 * workers, what the main isolate spent per call), the issue's targets, and what the design
 * would give on 16 cores, reasoned from this run's figures.
 *
 * @module
 */

import { key, type Measured, type Results } from "./cells.ts";
import { roundRatios } from "./ratios.ts";
import { median } from "./median.ts";
import { fmtInt, fmtPct, fmtUs } from "./format.ts";
import {
  ONE,
  spread,
  TWO,
  TWO_LOGGED,
  type WorkerRound,
  type WorkerRounds,
  WORKERS_HTTP,
  WORKERS_HTTP_LOAD,
  WORKERS_TCP,
  WORKERS_TCP_LOAD,
} from "./workers.ts";

/** The section's heading in docs/performance.md (the section runs to the next `## `). */
export const WORKERS_HEADING = "## `serve --workers`";

/** The two cells, as the tables name them. */
const CELLS = [
  { suite: WORKERS_HTTP, load: WORKERS_HTTP_LOAD.label, what: "JSON-RPC `add` over HTTP (wrk)" },
  {
    suite: WORKERS_TCP,
    load: WORKERS_TCP_LOAD.label,
    what: "msgpack-rpc `add`, pipelined",
  },
];

/** What the figures of one cell come to. */
export interface WorkersCell {
  what: string;
  load: string;
  /** Round by round: 2 workers' calls/s ÷ 1 worker's. */
  speedup: number[];
  /** Round by round: 2 workers' CPU per call ÷ 1 worker's. */
  cpuRatio: number[];
  /** Round by round, at 2 workers: busiest worker's calls ÷ idlest's − 1. */
  spreads: number[];
  /** Round by round, at 2 workers: the same of the connections each held. */
  connectionSpreads: number[];
  /**
   * The most 2 workers could give over 1 here, the generator sharing the cores: the cores ÷
   * (server + generator CPU per call at 2 workers), ÷ 1 worker's calls/s.
   */
  ceiling?: number;
  one?: Measured;
  two?: Measured;
  logged?: Measured;
  /** Lowest over the rounds, µs per call, per server: main thread, worker threads, others. */
  threads: Record<string, { main: number; workers: number; other: number }>;
}

const lowest = (xs: number[]) => {
  const finite = xs.filter(Number.isFinite);
  return finite.length ? Math.min(...finite) : NaN;
};

/** Thread CPU per call, lowest of the rounds (the least disturbed, as runSuite's cpuUs). */
function threadFigures(rounds: (WorkerRound | undefined)[] | undefined) {
  const got = (rounds ?? []).filter((r): r is WorkerRound => r !== undefined);
  return {
    main: lowest(got.map((r) => r.mainUs)),
    workers: lowest(got.map((r) => r.workersUs)),
    other: lowest(got.map((r) => r.otherUs)),
  };
}

/** The figures of both cells from a run. */
export function workersCells(
  results: Results,
  rounds: WorkerRounds,
  cores = navigator.hardwareConcurrency,
): WorkersCell[] {
  return CELLS.map(({ suite, load, what }) => {
    const get = (server: string) => results.get(key(suite, "add", load, server));
    const one = get(ONE), two = get(TWO), logged = get(TWO_LOGGED);
    const spreads = (rounds.get(`${suite}|${TWO}`) ?? [])
      .map((r) => r?.perWorker && spread(r.perWorker))
      .filter((s): s is number => s !== undefined);
    const connectionSpreads = (rounds.get(`${suite}|${TWO}`) ?? [])
      .map((r) => r?.connections && spread(r.connections))
      .filter((s): s is number => s !== undefined);
    const threads: WorkersCell["threads"] = {};
    for (const server of [ONE, TWO, TWO_LOGGED]) {
      threads[server] = threadFigures(rounds.get(`${suite}|${server}`));
    }
    return {
      what,
      load,
      speedup: roundRatios(two, one),
      cpuRatio: roundRatios(two, one, "cpuUs"),
      spreads,
      connectionSpreads,
      ceiling: ceiling(one, two, cores),
      one,
      two,
      logged,
      threads,
    };
  });
}

/** See {@linkcode WorkersCell.ceiling}; undefined without the figures. */
export function ceiling(
  one: Measured | undefined,
  two: Measured | undefined,
  cores: number,
): number | undefined {
  const cps1 = one?.result?.cps, cps2 = two?.result?.cps;
  const serverUs = two?.cpuUs, busy = two?.generator?.busy;
  if (!cps1 || !cps2 || serverUs === undefined || busy === undefined) return undefined;
  const generatorUs = busy * 1e6 / cps2;
  return cores * 1e6 / (serverUs + generatorUs) / cps1;
}

/**
 * The chance that the kernel's hash leaves 2 workers within `within` of each other (busiest ÷
 * idlest − 1) with `connections` connections, each landing on either with even odds.
 */
export function evenChance(connections: number, within = 0.2): number {
  let chance = 0, ways = 1; // ways = C(connections, k), built up as k grows
  for (let k = 0; k <= connections; k++) {
    if (k > 0) ways = ways * (connections - k + 1) / k;
    const lo = Math.min(k, connections - k), hi = Math.max(k, connections - k);
    if (lo > 0 && hi / lo - 1 <= within + 1e-9) chance += ways;
  }
  return chance / 2 ** connections;
}

const span = (xs: number[], show: (x: number) => string) => {
  if (!xs.length) return "–";
  const lo = show(Math.min(...xs)), hi = show(Math.max(...xs));
  return lo === hi ? lo : `${lo}–${hi}`;
};
const times = (x: number) => `${x.toFixed(2)}×`;
const cps = (m: Measured | undefined) =>
  m?.result ? fmtInt(m.result.cps) + (m.result.wrong ? " ⚠" : "") : m?.missing ?? "–";
const generatorBusy = (m: Measured | undefined) => m?.generator ? fmtPct(m.generator.busy) : "–";

/** The issue's three targets, met or missed, from the cells. */
export function workersTargets(cells: WorkersCell[]): string[] {
  const verdict = (ok: boolean | undefined) =>
    ok === undefined ? "not measured" : ok ? "met" : "MISSED";
  const out: string[] = [];
  for (const c of cells) {
    const s = c.speedup.length ? median(c.speedup) : undefined;
    out.push(
      `- ${c.what}: --workers 2 ÷ --workers 1 ≥ 1.4× — median ${
        s === undefined ? "–" : times(s)
      } (rounds ${span(c.speedup, times)}; the most the cores allow with this generator: ${
        c.ceiling === undefined ? "–" : times(c.ceiling)
      }): ${verdict(s === undefined ? undefined : s >= 1.4)}`,
    );
  }
  for (const c of cells) {
    const worst = c.spreads.length ? Math.max(...c.spreads) : undefined;
    out.push(
      `- ${c.what}, 32 connections: calls spread within 20% between the 2 workers — worst ` +
        `round ${worst === undefined ? "–" : fmtPct(worst)}: ${
          verdict(worst === undefined ? undefined : worst <= 0.2)
        }`,
    );
  }
  for (const c of cells) {
    const worst = c.connectionSpreads.length ? Math.max(...c.connectionSpreads) : undefined;
    out.push(
      `- ${c.what}, 32 connections: connections spread within 20% between the 2 workers — ` +
        `worst round ${worst === undefined ? "–" : fmtPct(worst)} (rounds ${
          span(c.connectionSpreads, fmtPct)
        }; by the kernel's hash alone, ${fmtPct(evenChance(32))} of rounds would be): ${
          verdict(worst === undefined ? undefined : worst <= 0.2)
        }`,
    );
  }
  for (const c of cells) {
    const r = c.cpuRatio.length ? median(c.cpuRatio) : undefined;
    out.push(
      `- ${c.what}: server CPU per call within 5% of one worker's — median ${
        r === undefined ? "–" : `${fmtPct(r - 1)}`
      } (rounds ${span(c.cpuRatio, (x) => fmtPct(x - 1))}): ${
        verdict(r === undefined ? undefined : r <= 1.05)
      }`,
    );
  }
  return out;
}

/** The table of both cells, one row per server. */
export function workersTable(cells: WorkersCell[], rounds: WorkerRounds): string {
  const lines = [
    "| Cell | Server | calls/s (best round) | ÷ --workers 1, by round | server CPU µs/call | ÷ --workers 1, by round | main isolate µs/call | worker threads µs/call | other threads µs/call | calls per worker (best round) | spread, by round | connections per worker (best round) | connection spread, by round | generator on CPU | peak RSS MiB |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|---|--:|--:|--:|",
  ];
  for (const c of cells) {
    const suite = CELLS.find((x) => x.what === c.what)!.suite;
    for (const [server, m] of [[ONE, c.one], [TWO, c.two], [TWO_LOGGED, c.logged]] as const) {
      const t = c.threads[server];
      const list = rounds.get(`${suite}|${server}`) ?? [];
      const bestRound = m?.rounds?.reduce(
        (best, r, i) => r && r.cps > (m.rounds![best]?.cps ?? 0) ? i : best,
        0,
      ) ?? 0;
      const perWorker = list[bestRound]?.perWorker;
      const spreads = server === ONE ? [] : list.map((r) => r?.perWorker && spread(r.perWorker))
        .filter((s): s is number => s !== undefined);
      const connections = list[bestRound]?.connections;
      const connectionSpreads = server === ONE
        ? []
        : list.map((r) => r?.connections && spread(r.connections))
          .filter((s): s is number => s !== undefined);
      lines.push(
        `| ${c.what}, ${c.load} | ${server} | ${cps(m)} | ${
          server === ONE ? "1" : span(roundRatios(m, c.one), times)
        } | ${fmtUs(m?.cpuUs)} | ${
          server === ONE ? "1" : span(roundRatios(m, c.one, "cpuUs"), times)
        } | ${fmtUs(t.main)} | ${fmtUs(t.workers)} | ${fmtUs(t.other)} | ${
          perWorker ? perWorker.map(fmtInt).join(" / ") : "–"
        } | ${server === ONE ? "–" : span(spreads, fmtPct)} | ${
          connections ? connections.map(fmtInt).join(" / ") : "–"
        } | ${server === ONE ? "–" : span(connectionSpreads, fmtPct)} | ${generatorBusy(m)} | ${
          m?.peakKiB ? (m.peakKiB / 1024).toFixed(0) : "–"
        } |`,
      );
    }
  }
  return lines.join("\n");
}

/** What one cell says about the main isolate's share of a call. */
export interface MainShare {
  what: string;
  /** The main isolate's CPU per call for relaying the access log (logged − unlogged), µs. */
  logRelayUs: number;
  /** Everything else per call at 2 workers with the log (workers, GC, I/O threads), µs. */
  workerUs: number;
  /** Busy workers one main isolate keeps up with: workerUs ÷ the main isolate's µs per call. */
  saturatesAt: number;
}

/** What the run says about where 16 workers would stop scaling. */
export interface Projection {
  /** Per cell; the lowest `saturatesAt` is the limit. */
  cells: MainShare[];
  /** Peak RSS one more worker costs (HTTP cell, 2 workers − 1), MiB. */
  perWorkerMiB: number;
}

/** The projection from both cells. */
export function projection(cells: WorkersCell[]): Projection {
  const peak = (m: Measured | undefined) => m?.peakKiB ?? NaN;
  return {
    cells: cells.map((c) => {
      const logged = c.threads[TWO_LOGGED], plain = c.threads[TWO];
      const workerUs = logged.workers + logged.other;
      return {
        what: c.what,
        logRelayUs: logged.main - plain.main,
        workerUs,
        saturatesAt: workerUs / logged.main,
      };
    }),
    perWorkerMiB: (peak(cells[0]?.two) - peak(cells[0]?.one)) / 1024,
  };
}

/**
 * Why a cell's speed-up stops where it does: the ceiling the cores and the generator leave,
 * and the kernel's spread of the connections.
 */
export function whyNotMore(cells: WorkersCell[]): string {
  const us = (x: number | undefined) => x === undefined || !Number.isFinite(x) ? "–" : fmtUs(x);
  const each = cells.map((c) => {
    const busy = c.two?.generator?.busy, cps = c.two?.result?.cps;
    const generatorUs = busy !== undefined && cps ? busy * 1e6 / cps : undefined;
    return `${c.what}: ${us(c.two?.cpuUs)} µs of server and ${us(generatorUs)} µs of ` +
      `generator per call at 2 workers, so at most ${
        c.ceiling === undefined ? "–" : times(c.ceiling)
      } of one worker's calls/s`;
  }).join("; ");
  return "Why a speed-up stops where it does. With the load generator on the same cores, " +
    "2 workers can give at most the cores ÷ (server + generator CPU per call) calls/s, " +
    `against 1 worker's one core of server: ${each}. Where that ceiling is under 1.4× the ` +
    "target cannot be met on this machine whatever the server does: the generator takes " +
    "the CPU the second worker needs. One connection's calls stay on " +
    "the worker it landed on, and the kernel's `SO_REUSEPORT` hash puts each of the 32 " +
    "connections on either worker with even odds: 15–17 each (within 20%) in " +
    `${fmtPct(evenChance(32))} of rounds, and a 20/12 split now and then. The closed-loop ` +
    "generators make up part of it (a less loaded worker answers its connections sooner, so " +
    "they make more calls), which is why the calls spread less than the connections while the " +
    "cores are the limit.";
}

/** "On 16 cores": the design's reasoning, with this run's figures put in. */
export function on16Cores(p: Projection): string {
  const us = (x: number) => Number.isFinite(x) ? `${x.toFixed(1)} µs` : "n/a";
  const n = (x: number) => Number.isFinite(x) ? `about ${Math.round(x)}` : "n/a";
  const mib = Number.isFinite(p.perWorkerMiB) ? `${p.perWorkerMiB.toFixed(0)} MiB` : "n/a";
  const limits = p.cells.map((c) => c.saturatesAt).filter(Number.isFinite);
  const first = limits.length ? Math.min(...limits) : NaN;
  const perCell = p.cells.map((c) =>
    `${c.what}: ${us(c.logRelayUs)} in the main isolate against ${us(c.workerUs)} ` +
    `everywhere else (worker threads, GC and I/O threads), so one main isolate keeps up ` +
    `with ${n(c.saturatesAt)} busy workers`
  ).join("; ");
  return [
    "### On 16 cores",
    "",
    "Not measured (this machine has 2 cores): reasoned from the design and from the figures " +
    "above. `serve --workers 16` runs 16 isolates, each a whole server on its own thread with " +
    "its own event loop, heap and listeners bound with `SO_REUSEPORT`; nothing is shared on " +
    "the path of a call, so calls/s grows with the cores until one of these limits:",
    "",
    "- **The main isolate is one thread.** Without the access log it does nothing per call " +
    "(its column above, at `--workers 2`). With it, every worker posts its lines to it, and " +
    "it writes them to stdout. Its CPU per call with the log, less without, in this run: " +
    `${perCell}. The cheaper the call, the sooner it is the limit: in this run ` +
    `at ${n(first)} workers (16 would keep it ${
      Number.isFinite(first) ? `${Math.round(16 / first * 100)}%` : "n/a"
    } busy). Past that it falls behind: the workers' messages queue up in it (memory, ` +
    "not back-pressure), the log lags, and its pings' answers, queued behind the lines, " +
    "come late (15 s late, and it could take a worker for hung and restart it). Also through " +
    "it, each a single-thread limit of its own: a call published to a topic (posted once " +
    "to it, then to each of the N − 1 other workers: O(N) per publish, and each worker " +
    "decodes it); every call of a `once` implementation (the main isolate, then worker 0: " +
    "two threads, whatever N); a `/metrics` scrape (N expositions collected and merged: " +
    "O(N × series) per scrape, not per call).",
    "- **To remove it**: each worker writes its own log lines to the same stdout (a write of " +
    "whole lines up to PIPE_BUF, 4 KiB, to a pipe is atomic, so lines do not interleave) or to " +
    "a file of its own; publishes and `once` calls go worker to worker over `MessageChannel` " +
    "ports handed out at start-up, not through the main isolate; pings on a channel of their " +
    "own; counters in a `SharedArrayBuffer` read at scrape time.",
    "- **Spreading by the kernel.** `SO_REUSEPORT` hashes each connection's addresses and " +
    "ports to a listener: connections spread, calls do not, and one pipelined connection " +
    "stays on one worker. The spread is random: with C connections over N workers each gets " +
    "C/N ± √(C/N), so 32 connections over 16 workers leave some workers with none; for the " +
    "busiest within 20% of the idlest, C/N must be in the hundreds (thousands of " +
    "connections). Fewer, busier connections (a proxy's pool) need a smarter spread than the " +
    "hash: a BPF program on the group (`SO_ATTACH_REUSEPORT_EBPF`) or connections handed to " +
    "the least busy worker, neither of which Deno exposes today.",
    `- **Memory.** Each isolate loads its own copy of the code, the components and their ` +
    `state: in this run a second worker added ${mib} of peak RSS, so 16 workers hold about ` +
    "16 times that, and component state (caches, counters) 16 times over.",
    "- **GC per isolate.** Each isolate collects its own heap, so a pause stops one worker, " +
    "not all; but V8's concurrent marking and sweeping run on one process-wide pool of " +
    "helper threads, and 16 busy isolates compete for it and for the cores.",
    "- **Network.** On loopback, every call is a pair of system calls and a trip through " +
    "the kernel's TCP stack on the calling core, which scales with the cores; through a NIC, " +
    "small calls at hundreds of thousands per second are a packet-rate load: the card must " +
    "spread its queues over the cores (RSS, multi-queue), else one core's interrupts cap " +
    "all 16 workers.",
    "- **The load generator**: `wrk -t1` and the single-threaded msgpack-rpc generator each " +
    "fill at most one core; measuring 16 workers needs `wrk -t8` and several generators, on " +
    "another machine.",
  ].join("\n");
}

/** The whole section: the table, its notes, the targets, the 16-core reasoning. */
export function workersSection(
  cells: WorkersCell[],
  rounds: WorkerRounds,
  info: { when: string; load: string; timing: string; busy?: boolean; generators?: string },
): string {
  return [
    WORKERS_HEADING,
    "",
    ...(info.busy
      ? [
        `⚠ The machine was busy (load average ${info.load}, more than its cores and this ` +
        "run): other processes took turns on the cores, so the round-by-round ratios are " +
        "noisy and say more about the scheduler than about `--workers`. Run it again on a " +
        "quiet machine.",
        "",
      ]
      : []),
    `\`deno task bench --workers-only\` (\`scripts/bench/workers.ts\`), ${info.when}; ` +
    `${info.timing}; load average ${info.load}. Real \`deno run -A main.ts serve --workers 1|2 ` +
    "--metrics --log-level off` processes with the bench component (and `--workers 2` with " +
    "the access log on, written to the bench's pipe), taking turns round by round; neither " +
    "they nor the generators are pinned: all share the cores." +
    (info.generators ? ` Load: ${info.generators}.` : ""),
    "",
    workersTable(cells, rounds),
    "",
    "Server CPU µs/call is the process's (every thread), lowest of the rounds; the thread " +
    "columns split it (Linux `/proc/<pid>/task`): the main thread (`--workers 1`: the server " +
    "itself; `--workers 2`: the main isolate, relaying log lines and pings), the `worker-N` " +
    "threads (the workers' isolates), the rest (V8's GC and compiler threads, tokio's I/O). " +
    "Calls per worker: `switchboard_serve_worker_calls_total{worker}` read from `/metrics` " +
    "as each window opened and closed; spread = the busiest worker's calls ÷ the idlest's − 1. " +
    "The calls stand in for the connections (32, spread by the kernel's hash, new ones each " +
    "round): the generators are closed loops, so each connection makes calls as fast as its " +
    "worker answers: the calls spread as the connections do while the generator is the " +
    "bottleneck, and as the workers' share of the CPU does while they are (on a busy machine, " +
    "a worker that gets less CPU gets fewer calls). Connections per worker: " +
    "`switchboard_serve_worker_connections{worker,transport}` in the middle of each window " +
    "(the HTTP cell's count the scrapes' own connections too). " +
    "`--workers 1` is one isolate, but its process, like the others, may use both cores (V8's " +
    "and tokio's threads). " +
    "Generator on CPU: the load generator's CPU time ÷ wall time (100% = one core; then it " +
    "was the bottleneck).",
    "",
    "Targets (issue 27):",
    "",
    ...workersTargets(cells),
    "",
    whyNotMore(cells),
    "",
    on16Cores(projection(cells)),
    "",
  ].join("\n");
}

/** `doc`'s section under `heading` (to the next `## ` heading), if it has one. */
export function sectionOf(doc: string, heading: string): string | undefined {
  const found = doc.startsWith(`${heading}\n`) ? 0 : doc.indexOf(`\n${heading}\n`) + 1;
  if (found === 0 && !doc.startsWith(`${heading}\n`)) return undefined;
  const next = doc.indexOf("\n## ", found + heading.length);
  return doc.slice(found, next < 0 ? undefined : next + 1).replace(/\n+$/, "\n");
}

/**
 * `doc` with its section under `heading` (to the next `## ` heading) replaced by `section`,
 * or, where it has none, `section` put before `before` (or at the end).
 */
export function replaceSection(
  doc: string,
  heading: string,
  section: string,
  before = "## Every cell of the run",
): string {
  const body = section.endsWith("\n") ? section : `${section}\n`;
  const found = doc.startsWith(`${heading}\n`) ? 0 : doc.indexOf(`\n${heading}\n`);
  if (found >= 0) {
    const at = found === 0 && doc.startsWith(heading) ? 0 : found + 1;
    const next = doc.indexOf("\n## ", at + heading.length);
    return doc.slice(0, at) + body + (next < 0 ? "" : `\n${doc.slice(next + 1)}`);
  }
  const where = doc.indexOf(`\n${before}\n`);
  if (where < 0) return `${doc.replace(/\n*$/, "\n\n")}${body}`;
  return `${doc.slice(0, where + 1)}${body}\n${doc.slice(where + 1)}`;
}
