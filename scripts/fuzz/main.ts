/**
 * `deno task fuzz`: a seeded mutation fuzzer against a real Switchboard server (a child
 * process) over JSON-RPC and XML-RPC (HTTP), msgpack-rpc (TCP) and AMQP (when a broker
 * answers), plus XML-RPC's `system.multicall` against its limits (`multicall`), and against the
 * host's side of a component boundary (`component`: messages a worker component posts to its
 * host; `component-process`: the same from a component process, with raw bytes among its
 * frames). Reports inputs per protocol, rates, error classes, known-call latencies, crashes,
 * hangs and server memory; exits 1 on a crash or a hang. Inputs that caused trouble are saved
 * under test-artifacts/fuzz/.
 *
 * Usage: deno task fuzz [--count N] [--seed S]
 *                       [--protocol jsonrpc|xmlrpc|msgpack|amqp|multicall|component|component-process|all]
 *                       [--seconds T] [--lanes L] [--normal-every N] [--latency-bound MS]
 *                       [--artifacts DIR] [--max-restarts N]
 *
 * @module
 */

import { AmqpDriver } from "./drive_amqp.ts";
import { ComponentDriver } from "./drive_component.ts";
import { HttpDriver } from "./drive_http.ts";
import { MulticallDriver } from "./drive_multicall.ts";
import { TcpDriver } from "./drive_tcp.ts";
import { ServerChild } from "./child.ts";
import { Rng } from "./rng.ts";
import { type Driver, runDriver, timed } from "./runner.ts";
import { type ProtocolReport, Stats } from "./stats.ts";

const PROTOCOLS = [
  "jsonrpc",
  "xmlrpc",
  "msgpack",
  "amqp",
  "multicall",
  "component",
  "component-process",
] as const;
type Protocol = typeof PROTOCOLS[number];

function parseArgs(args: string[]) {
  const opts = {
    count: 1_000_000,
    seed: (Date.now() ^ (Math.random() * 0x1_0000_0000)) >>> 0,
    protocol: "all",
    seconds: 900,
    lanes: 2,
    normalEvery: 2000,
    latencyBound: 5000,
    artifacts: "test-artifacts/fuzz",
    maxRestarts: 20,
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = inline ?? args[++i];
    const key = flag.replace(/^--/, "").replace(/-(\w)/g, (_, c) => c.toUpperCase());
    if (!(key in opts) || value === undefined) {
      console.error(
        `unknown or incomplete option ${
          args[i]
        }\nusage: deno task fuzz [--count N] [--seed S] [--protocol ${
          [...PROTOCOLS, "all"].join("|")
        }] [--seconds T]`,
      );
      Deno.exit(2);
    }
    const o = opts as Record<string, unknown>;
    o[key] = typeof o[key] === "number" ? Number(value) : value;
  }
  const list = opts.protocol === "all" ? [...PROTOCOLS] : [opts.protocol as Protocol];
  if (!list.every((p) => PROTOCOLS.includes(p))) {
    console.error(`--protocol must be one of ${PROTOCOLS.join(", ")} or all`);
    Deno.exit(2);
  }
  return { ...opts, protocols: list };
}

async function brokerUp(url: string): Promise<boolean> {
  const u = new URL(url);
  try {
    (await Deno.connect({ hostname: u.hostname, port: Number(u.port || 5672) })).close();
    return true;
  } catch {
    return false;
  }
}

const opts = parseArgs(Deno.args);
const amqpUrl = Deno.env.get("SWITCHBOARD_AMQP_URL") ?? "amqp://127.0.0.1";
console.log(
  `fuzz: seed ${opts.seed}, ${opts.count} inputs per protocol, ${opts.seconds} s budget, protocols ${
    opts.protocols.join(", ")
  }`,
);
const reports: ProtocolReport[] = [];
const root = new Rng(opts.seed);
const share = (opts.seconds * 1000) / opts.protocols.length;

for (const protocol of opts.protocols) {
  const rng = root.fork(); // each protocol's stream depends only on the seed and its place
  const stats = new Stats(protocol);
  if (protocol === "amqp" && !(await brokerUp(amqpUrl))) {
    const why =
      `no AMQP broker at ${amqpUrl} (run "bash .ci/setup.d/30-rabbitmq.sh" or set SWITCHBOARD_AMQP_URL)`;
    console.log(`amqp: skipped: ${why}`);
    reports.push(stats.report({}, why));
    continue;
  }
  const prefix = `sbfuzz.${opts.seed.toString(36)}.${crypto.randomUUID().slice(0, 6)}`;
  const start = () =>
    protocol === "component" || protocol === "component-process"
      ? ServerChild.start(undefined, {
        script: "./component_server.ts",
        args: [protocol === "component" ? "worker" : "process"],
      })
      : ServerChild.start(protocol === "amqp" ? { url: amqpUrl, prefix } : undefined);
  const holder = { server: await start(), restart: async () => holder.server = await start() };
  // A server that cannot start again (say a poison message left in a durable queue) ends
  // this protocol's run with the reason, instead of the whole fuzzer.
  const before = holder.server.rssKiB();
  const bound = opts.latencyBound;
  const driver: Driver = protocol === "jsonrpc" || protocol === "xmlrpc"
    ? new HttpDriver(
      protocol,
      rng,
      stats,
      holder.server,
      opts.lanes,
      protocol === "jsonrpc" ? 16 : 64,
      bound,
    )
    : protocol === "multicall"
    ? new MulticallDriver(rng, stats, holder.server, opts.lanes, 4)
    : protocol === "msgpack"
    ? new TcpDriver(rng, stats, holder.server, opts.lanes, 200, bound)
    : protocol === "component" || protocol === "component-process"
    ? new ComponentDriver(rng, stats, holder.server, 40, bound)
    : new AmqpDriver(rng, stats, amqpUrl, prefix, 500);
  const deadline = Date.now() + share;
  const progress = setInterval(() => {
    console.log(
      `  ${protocol}: ${stats.inputs} inputs, ${
        Math.round(stats.inputs / ((performance.now() - stats.started) / 1000))
      }/s, rss ${holder.server.rssKiB()} KiB`,
    );
  }, 15_000);
  try {
    await runDriver(driver, stats, holder, {
      count: opts.count,
      deadline,
      lanes: protocol === "amqp" ? 1 : opts.lanes,
      normalEvery: opts.normalEvery,
      latencyBoundMs: bound,
      artifactsDir: opts.artifacts,
      seed: opts.seed,
      maxRestarts: opts.maxRestarts,
    });
    // A last known call: the server still answers after everything it was sent.
    if (!holder.server.exit) {
      await timed(driver.normal(), bound).then((ms) => stats.latencies.push(ms), (error: Error) => {
        stats.normalFailed++;
        if (error.name === "Timeout") stats.hangs++;
        else stats.unexpected++;
        stats.count(`last known call failed: ${error.message.slice(0, 80)}`);
      });
    }
  } catch (error) {
    stats.crashes++;
    stats.count(`server could not restart: ${String(error).split("\n")[0].slice(0, 80)}`);
    console.log(`${protocol}: ${error instanceof Error ? error.message : error}`);
  } finally {
    clearInterval(progress);
  }
  const after = holder.server.rssKiB();
  await holder.server.kill(); // a hung server would keep the AMQP queues busy
  await driver.close();

  const report = stats.report({ before, after });
  reports.push(report);
  const log = Object.fromEntries(holder.server.logCounts);
  printReport(report, log, holder.server.errors);
}

function printReport(r: ProtocolReport, log: Record<string, number>, errors: string[]): void {
  console.log(`\n== ${r.protocol}: ${r.inputs} inputs in ${r.seconds} s (${r.inputsPerSecond}/s)`);
  for (const [name, n] of Object.entries(r.classes)) {
    console.log(`   ${String(n).padStart(9)}  ${name}`);
  }
  const nc = r.normalCalls;
  console.log(
    `   known call: ${nc.count} made, ${nc.failed} failed, p50 ${nc.p50} ms, p99 ${nc.p99} ms, max ${nc.max} ms`,
  );
  console.log(`   crashes ${r.crashes}, hangs ${r.hangs}, unexpected answers ${r.unexpected}`);
  console.log(
    `   server RSS ${r.rssKiB.before} KiB before, ${r.rssKiB.after} KiB after; log lines ${
      JSON.stringify(log)
    }`,
  );
  for (const e of errors.slice(0, 5)) console.log(`   logged: ${e.slice(0, 300)}`);
  for (const a of r.artifacts) console.log(`   saved: ${a}`);
}

const failed = reports.some((r) => r.crashes > 0 || r.hangs > 0);
console.log(
  `\nFUZZ-REPORT ${JSON.stringify({ seed: opts.seed, ok: !failed, protocols: reports })}`,
);
Deno.exit(failed ? 1 : 0);
