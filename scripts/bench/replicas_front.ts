/**
 * Throughput through a deployment's front to 3 replicas against 1 replica, and Moleculer's
 * balancer (its TCP transporter, a caller node balancing over 1 and 3 service nodes) on the
 * same machine and the same work per call. Runs on its own:
 *
 * ```sh
 * deno run -A scripts/bench/replicas_front.ts [--duration MS] [--concurrency N] [--rounds N] [--repeat N] [--no-moleculer]
 * ```
 *
 * Switchboard's load generator (this process) calls `Work.run` over msgpack-rpc on the
 * front's TCP listener; the front forwards each call to a replica (least in flight of two
 * random choices). Moleculer has no front: its caller node balances itself (round-robin), so
 * its calls make one hop fewer. Moleculer is installed with npm into
 * `scripts/bench/moleculer/node_modules` on first run. Prints a Markdown table.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { connect } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { stopChild } from "./stop_child.ts";

const HERE = fileURLToPath(new URL("./", import.meta.url));
const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const COMPONENT = new URL("./replicas_front_component.ts", import.meta.url).href;
const MOLECULER = `${HERE}moleculer`;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "32" },
    rounds: { type: "string", default: "20000" },
    repeat: { type: "string", default: "3" },
    "no-moleculer": { type: "boolean", default: false },
  },
});
const DURATION = Number(flags.duration);
const CONCURRENCY = Number(flags.concurrency);
const ROUNDS = Number(flags.rounds);
const REPEAT = Math.max(1, Number(flags.repeat));

/** `count` consecutive free ports on 127.0.0.1. */
function freeBlock(count: number): number {
  for (let tries = 0; tries < 200; tries++) {
    const first = 20_000 + Math.floor(Math.random() * 40_000);
    const held: Deno.Listener[] = [];
    try {
      for (let k = 0; k < count; k++) {
        held.push(Deno.listen({ hostname: "127.0.0.1", port: first + k }));
      }
      return first;
    } catch {
      // taken: another block
    } finally {
      for (const l of held) l.close();
    }
  }
  throw new Error("no block of free ports");
}

/** Lines of `stream` until one passes `test` (rejects when the stream ends first). */
async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  test: (line: string) => boolean,
): Promise<void> {
  let rest = "";
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the process ended before it was ready");
    const lines = (rest + value).split("\n");
    rest = lines.pop()!;
    if (lines.some(test)) break;
  }
  // Keep draining so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })().catch(() => {});
}

/** Calls per second through a deployment's front to `replicas` replicas. */
async function switchboard(replicas: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-bench-replicas-" });
  const [listen, front] = [freeBlock(replicas), freeBlock(1)];
  const file = `${dir}/deployment.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      processes: {
        work: {
          components: [COMPONENT],
          listen: [{ tcp: `127.0.0.1:${listen}` }],
          public: ["Work"],
          replicas,
        },
        front: { front: [{ tcp: `127.0.0.1:${front}` }] },
      },
    }),
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "deploy", "--log-level", "off", file],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    await waitForLine(child.stderr, (l) => l.includes("every process is ready"));
    const client = connect(`tcp://127.0.0.1:${front}`, { timeout: 30_000 });
    const params = { rounds: ROUNDS };
    const warm = Date.now() + 300;
    while (Date.now() < warm) await client.call("Work.run", params);
    let calls = 0;
    const end = Date.now() + DURATION;
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        await client.call("Work.run", params);
        calls++;
      }
    }));
    const rate = calls / ((performance.now() - started) / 1000);
    await client.close();
    return rate;
  } finally {
    await stopChild(child);
    await Deno.remove(dir, { recursive: true });
  }
}

/** Calls per second of Moleculer's caller balancing over `nodes` service nodes. */
async function moleculer(nodes: number): Promise<number> {
  const caller = freeBlock(1), first = freeBlock(nodes);
  const peers = [
    `127.0.0.1:${caller}/caller`,
    ...Array.from({ length: nodes }, (_, k) => `127.0.0.1:${first + k}/node-${k + 1}`),
  ];
  const services = Array.from({ length: nodes }, (_, k) =>
    new Deno.Command("node", {
      args: [
        `${MOLECULER}/node_service.js`,
        `node-${k + 1}`,
        String(first + k),
        JSON.stringify(peers),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn());
  try {
    await Promise.all(services.map((s) => waitForLine(s.stdout, (l) => l === "ready")));
    const out = await new Deno.Command("node", {
      args: [
        `${MOLECULER}/node_caller.js`,
        String(caller),
        JSON.stringify(peers),
        String(nodes),
        String(CONCURRENCY),
        String(DURATION),
        String(ROUNDS),
      ],
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("the Moleculer caller failed");
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    if (result.failures) console.error(`moleculer: ${result.failures} failed calls`);
    return result.callsPerSecond;
  } finally {
    await Promise.all(services.map((s) => stopChild(s)));
  }
}

async function installMoleculer(): Promise<boolean> {
  try {
    await Deno.stat(`${MOLECULER}/node_modules/moleculer`);
    return true;
  } catch {
    const npm = await new Deno.Command("npm", {
      args: ["install", "--no-audit", "--no-fund"],
      cwd: MOLECULER,
      stdout: "inherit",
      stderr: "inherit",
    }).output().catch(() => undefined);
    return npm?.success ?? false;
  }
}

/** The median of `REPEAT` runs of each of `cells`, run in turn (a loaded machine drifts). */
async function medians(cells: (() => Promise<number>)[]): Promise<number[]> {
  const runs: number[][] = cells.map(() => []);
  for (let r = 0; r < REPEAT; r++) {
    for (const [i, cell] of cells.entries()) runs[i].push(await cell());
  }
  return runs.map((xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
}

const rows: [string, number, number][] = [];
const withMoleculer = !flags["no-moleculer"] && await installMoleculer();
if (!flags["no-moleculer"] && !withMoleculer) {
  console.error("moleculer: npm install failed; its row is left out");
}
const figures = await medians([
  () => switchboard(1),
  () => switchboard(3),
  ...(withMoleculer ? [() => moleculer(1), () => moleculer(3)] : []),
]);
rows.push(["Switchboard: front → replicas", figures[0], figures[1]]);
if (withMoleculer) {
  rows.push(["Moleculer: caller node → service nodes (TCP transporter)", figures[2], figures[3]]);
}
const cores = navigator.hardwareConcurrency;
console.log(
  `\n${CONCURRENCY} callers, ${ROUNDS} rounds of work per call, median of ${REPEAT} runs of ${DURATION} ms per cell, ${cores} cores, load average ${
    Deno.loadavg()[0]
  }\n`,
);
console.log("| | 1 replica (calls/s) | 3 replicas (calls/s) | 3 vs 1 |");
console.log("|---|---:|---:|---:|");
for (const [name, a, b] of rows) {
  console.log(`| ${name} | ${Math.round(a)} | ${Math.round(b)} | ${(b / a).toFixed(2)}× |`);
}
if (rows.length > 1) {
  console.log(
    `\nSwitchboard / Moleculer, 3 replicas: ${(rows[0][2] / rows[1][2]).toFixed(2)}×; 1 replica: ${
      (rows[0][1] / rows[1][1]).toFixed(2)
    }×`,
  );
}
