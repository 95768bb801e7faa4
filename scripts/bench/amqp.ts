/**
 * Throughput through RabbitMQ: `Bench.add` calls per second with 1 and 3 worker processes
 * (`switchboard serve --amqp`), and against a bare amqplib worker (same broker, same
 * persistent messages and direct reply-to, no router) for the ratio.
 *
 * ```sh
 * deno run -A scripts/bench/amqp.ts [--url amqp://127.0.0.1] [--calls 20000] [--inflight 32]
 * ```
 *
 * Each run keeps `inflight` calls outstanding (per worker) until `calls` have completed.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { connect } from "../../mod.ts";
import { callQueue, DEFAULT_PREFIX } from "../../src/wire/amqp/conventions.ts";
import { type AmqpMessage, loadAmqp } from "../../src/wire/amqp/amqplib.ts";
import { decodeMessage, encodeOutcome } from "../../src/wire/msgpackrpc/codec.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const COMPONENT = new URL("./bench_component.ts", import.meta.url).pathname;
const QUEUE = callQueue(DEFAULT_PREFIX, "Bench");

const { values } = parseArgs({
  args: Deno.args,
  options: {
    url: { type: "string", default: Deno.env.get("SWITCHBOARD_AMQP_URL") ?? "amqp://127.0.0.1" },
    calls: { type: "string", default: "20000" },
    inflight: { type: "string", default: "32" },
    "bare-worker": { type: "boolean", default: false },
  },
});
const url = values.url!;

if (values["bare-worker"]) {
  await bareWorker(Number(values.inflight));
} else {
  await main(Number(values.calls), Number(values.inflight));
}

/** A worker with no Switchboard: decode, add, encode, publish the reply, ack. */
async function bareWorker(prefetch: number): Promise<void> {
  const lib = await loadAmqp();
  const connection = await lib.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(prefetch, true);
  await channel.assertQueue(QUEUE, { durable: true });
  await channel.consume(QUEUE, (m: AmqpMessage | null) => {
    if (!m) return;
    const request = decodeMessage(m.content);
    if (request.type !== 0) return channel.ack(m);
    const { a, b } = request.params as { a: number; b: number };
    const body = lib.toBuffer(encodeOutcome(request.msgid, { ok: true, value: a + b }));
    channel.publish("", m.properties.replyTo!, body, {
      correlationId: m.properties.correlationId,
    });
    channel.ack(m);
  });
  console.log("consuming (bare)");
  await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", resolve));
  await channel.close();
  await connection.close();
}

function spawn(args: string[]): { child: Deno.ChildProcess; ready: Promise<void> } {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const ready = (async () => {
    let seen = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (!seen.includes("consuming")) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`worker exited: ${seen}`);
      seen += value;
    }
    // Keep draining so the worker never blocks on a full pipe.
    (async () => {
      while (!(await reader.read()).done);
    })();
  })();
  return { child, ready };
}

function switchboardWorker(prefetch: number) {
  return spawn([
    "run",
    "-A",
    "main.ts",
    "serve",
    "--component",
    COMPONENT,
    "--amqp",
    url,
    "--http",
    "off",
    "--tcp",
    "off",
    "--prefetch",
    String(prefetch),
  ]);
}

function bareWorkerProcess(prefetch: number) {
  return spawn([
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    "--bare-worker",
    "--url",
    url,
    "--inflight",
    String(prefetch),
  ]);
}

/** Keeps `inflight` calls outstanding until `total` completed; returns calls/s. */
async function drive(total: number, inflight: number): Promise<number> {
  const client = connect(url, { timeout: 60_000 });
  try {
    await client.call("Bench.add", { a: 1, b: 2 }); // connect and warm up
    let started = 0;
    const start = performance.now();
    const lane = async () => {
      while (started < total) {
        started++;
        const sum = await client.call("Bench.add", { a: 20, b: 22 });
        if (sum !== 42) throw new Error(`bad sum ${sum}`);
      }
    };
    await Promise.all(Array.from({ length: inflight }, lane));
    return total / ((performance.now() - start) / 1000);
  } finally {
    await client.close();
  }
}

/** Starts from (and leaves) no Bench queue, so no stale calls count. */
async function dropQueue(): Promise<void> {
  const lib = await loadAmqp();
  const connection = await lib.connect(url);
  const channel = await connection.createConfirmChannel();
  await channel.deleteQueue(QUEUE);
  await channel.close();
  await connection.close();
}

async function run(
  label: string,
  workers: { child: Deno.ChildProcess; ready: Promise<void> }[],
  calls: number,
  inflight: number,
): Promise<number> {
  try {
    await Promise.all(workers.map((w) => w.ready));
    const rate = await drive(calls, inflight);
    console.log(`${label.padEnd(34)} ${rate.toFixed(0).padStart(7)} calls/s`);
    return rate;
  } finally {
    for (const w of workers) {
      w.child.kill("SIGTERM");
      await w.child.status;
    }
  }
}

async function main(calls: number, inflight: number): Promise<void> {
  await dropQueue();
  console.log(
    `AMQP throughput: ${calls} persistent Bench.add calls via ${url}, ` +
      `${inflight} in flight per worker, direct reply-to, publisher confirms`,
  );
  const bare = await run(
    "bare amqplib worker (1)",
    [bareWorkerProcess(inflight)],
    calls,
    inflight,
  );
  const one = await run(
    "switchboard serve --amqp (1 worker)",
    [switchboardWorker(inflight)],
    calls,
    inflight,
  );
  const three = await run(
    "switchboard serve --amqp (3 workers)",
    [0, 1, 2].map(() => switchboardWorker(inflight)),
    calls,
    inflight * 3,
  );
  console.log(
    `ratios: switchboard/bare (1 worker) ${(one / bare).toFixed(2)}, ` +
      `3 workers/1 worker ${(three / one).toFixed(2)}`,
  );
  await dropQueue();
}
