/**
 * The replica benchmark, on its own: `deno run -A scripts/bench/replicas.ts [--duration MS]`.
 * Three `switchboard serve` processes behind one balancing client (msgpack-rpc over TCP),
 * side by side:
 *
 * - healthy: the p50/p99 of calls when every replica answers at once;
 * - one replica holding 5 % of its calls for 500 ms, without and with hedging (the hedge
 *   delay is the healthy p99): p99 against the healthy one, and the extra requests sent;
 * - a total outage (every replica killed under load): retries against the calls made, how
 *   soon every breaker is open, and what a refused call then costs (no network call).
 *
 * It prints one Markdown table with the ratios and whether each target is met.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { BalancedTransport, Client, connect, type Transport } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { stopChild } from "./stop_child.ts";

const ROOT = new URL("../../", import.meta.url);
const COMPONENT = new URL("./replica_component.ts", import.meta.url).pathname;
const CONCURRENCY = 16;

interface Replica {
  child: Deno.ChildProcess;
  url: string;
}

/** Starts `serve` with the bench component; resolves once it listens. */
async function startReplica(env: Record<string, string> = {}): Promise<Replica> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "main.ts",
      "serve",
      "--component",
      COMPONENT,
      "--http",
      "off",
      "--tcp",
      "127.0.0.1:0",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const until = Date.now() + 30_000;
  while (!/listening on tcp:\/\/\S+/.test(text)) {
    if (Date.now() > until) throw new Error(`serve did not start:\n${text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited:\n${text}`);
    text += value;
  }
  // Keep draining its output so that it never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return { child, url: /listening on (tcp:\/\/\S+)/.exec(text)![1] };
}

/** A transport that counts the requests it sends. */
function counted(inner: Transport, count: { sent: number }): Transport {
  return {
    rpcSystem: (m) => inner.rpcSystem?.(m),
    call: (request) => {
      count.sent++;
      return inner.call(request);
    },
    notify: (request) => inner.notify(request),
    close: () => inner.close(),
  };
}

function balanced(urls: string[], options: ConstructorParameters<typeof BalancedTransport>[1]) {
  const count = { sent: 0 };
  const transport = new BalancedTransport(
    urls.map((url) => ({ name: url, transport: counted(connect(url).transport, count) })),
    options,
  );
  return { client: new Client(transport, { timeout: 5000 }), transport, count };
}

interface Run {
  latencies: number[];
  calls: number;
  failed: number;
}

/** Calls made by every `drive` so far. */
let made = 0;

/**
 * Calls `Bench.get` from CONCURRENCY loops for `ms`; `during` runs alongside, `onError` sees
 * each failure. (Loops whose calls fail at once starve timers: `during` should not poll.)
 */
async function drive(
  client: Client,
  ms: number,
  during?: () => Promise<void>,
  onError?: (error: Error) => void,
): Promise<Run> {
  const latencies: number[] = [];
  let calls = 0, failed = 0, n = 0;
  const end = performance.now() + ms;
  const loops = Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const started = performance.now();
      calls++;
      made++;
      try {
        await client.call("Bench.get", { n: n++ }, { idempotent: true });
        latencies.push(performance.now() - started);
      } catch (error) {
        failed++;
        onError?.(error as Error);
      }
    }
  });
  await Promise.all([...loops, during?.()]);
  return { latencies, calls, failed };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

const { values } = parseArgs({ args: Deno.args, options: { duration: { type: "string" } } });
const duration = Number(values.duration ?? 3000);
const rows: [string, string, string, string][] = [];
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

// Healthy, then one replica stalling 5 % of its calls, without and with hedging.
let healthyP99: number;
{
  const replicas = await Promise.all([startReplica(), startReplica(), startReplica()]);
  const { client } = balanced(replicas.map((r) => r.url), {});
  await drive(client, 500); // warm-up
  const run = await drive(client, duration);
  healthyP99 = quantile(run.latencies, 0.99);
  rows.push([
    "healthy: p50 / p99",
    `${fmt(quantile(run.latencies, 0.5))} / ${fmt(healthyP99)}`,
    `${run.calls} calls`,
    "",
  ]);
  await client.close();
  await Promise.all(replicas.map((r) => stopChild(r.child)));
}
{
  const stall = { BENCH_STALL_RATIO: "0.05", BENCH_STALL_MS: "500" };
  const replicas = await Promise.all([startReplica(stall), startReplica(), startReplica()]);
  const urls = replicas.map((r) => r.url);
  for (const hedge of [undefined, Math.max(1, healthyP99)]) {
    const { client, count } = balanced(
      urls,
      hedge === undefined ? {} : { hedge: { delay: hedge } },
    );
    await drive(client, 500);
    count.sent = 0;
    const run = await drive(client, duration);
    const p99 = quantile(run.latencies, 0.99);
    const extra = count.sent / run.calls - 1;
    const ratio = p99 / healthyP99;
    rows.push([
      hedge === undefined
        ? "1 replica stalls 5 % for 500 ms: p99 (no hedging)"
        : `… with hedging after ${fmt(hedge)}: p99, extra requests`,
      `${fmt(p99)} (${ratio.toFixed(2)}× healthy)${
        hedge === undefined ? "" : `, ${(extra * 100).toFixed(1)} % extra`
      }`,
      hedge === undefined ? "" : "p99 ≤ 2× healthy, extra ≤ 5 %",
      hedge === undefined ? "" : (ratio <= 2 && extra <= 0.05 ? "met" : "missed"),
    ]);
    await client.close();
  }
  await Promise.all(replicas.map((r) => stopChild(r.child)));
}

// A total outage: every replica killed under load, with breakers off (the retry budget
// alone bounds the extra load) and on (calls are refused here once every replica is out).
for (const breakers of [false, true]) {
  const replicas = await Promise.all([startReplica(), startReplica(), startReplica()]);
  const { client, count, transport } = balanced(replicas.map((r) => r.url), {
    // On: long open periods, so that the refusal figures measure refusals, not probes.
    breaker: breakers ? { openMs: 60_000 } : { consecutiveFailures: Infinity, minCalls: Infinity },
  });
  await drive(client, 500);
  let killedAt = 0, refusedAt = 0, sentAtKill = 0, madeAtKill = 0;
  const kill = async () => {
    await new Promise((r) => setTimeout(r, 300));
    sentAtKill = count.sent;
    madeAtKill = made;
    killedAt = performance.now();
    for (const r of replicas) r.child.kill("SIGKILL");
  };
  await drive(client, Math.max(duration, 2000), kill, (error) => {
    if (!refusedAt && killedAt && /circuit open/.test(error.message)) refusedAt = performance.now();
  });
  const sent = count.sent - sentAtKill, calls = made - madeAtKill;
  if (!breakers) {
    const retries = (sent - calls) / calls;
    rows.push([
      "total outage, breakers off: retries / calls",
      `${(retries * 100).toFixed(1)} % (${sent - calls} for ${calls})`,
      "≤ 10 % + the reserve (10)",
      sent - calls <= 0.1 * calls + 10 ? "met" : "missed",
    ]);
  } else {
    const openMs = refusedAt - killedAt;
    rows.push([
      "total outage, breakers on: network requests / calls",
      `${(sent / calls * 100).toFixed(2)} % (${sent} for ${calls})`,
      "≤ 10 % retries",
      sent - calls <= 0.1 * calls ? "met" : "missed",
    ]);
    rows.push([
      "… every breaker open (first local refusal) after",
      refusedAt ? fmt(openMs) : "never",
      "≤ 1 s",
      refusedAt && openMs <= 1000 ? "met" : "missed",
    ]);
    assertAllOpen(transport);
    const before = count.sent;
    const refusals = 20_000;
    const each = async (call: () => Promise<unknown>) => {
      const started = performance.now();
      for (let i = 0; i < refusals; i++) await call().catch(() => {});
      return (performance.now() - started) / refusals * 1000;
    };
    const bare = await each(() => transport.call({ method: "Bench.get", idempotent: true }));
    const full = await each(() => client.call("Bench.get", { n: 1 }, { idempotent: true }));
    // What one Error costs on this machine, for scale: a refusal makes one.
    const error = await each(() => Promise.reject(new Error("refused")));
    const network = count.sent - before;
    rows.push([
      "… then a refused call costs (transport / Client with its timeout)",
      `${bare.toFixed(1)} µs / ${full.toFixed(1)} µs, ${network} network calls ` +
      `(a rejected Error alone: ${error.toFixed(1)} µs)`,
      "< 50 µs, none",
      full < 50 && network === 0 ? "met" : bare < 50 && network === 0 ? "transport met" : "missed",
    ]);
  }
  await client.close();
  await Promise.all(replicas.map((r) => r.child.status));
}

function assertAllOpen(transport: BalancedTransport): void {
  const states = transport.status().map((s) => s.state);
  if (states.some((s) => s !== "open")) throw new Error(`breakers not all open: ${states}`);
}

console.log("| replicas (3, msgpack-rpc over TCP) | figure | target | |");
console.log("|---|---|---|---|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
