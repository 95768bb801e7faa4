// AMQP with real worker processes (`switchboard serve --amqp`): a worker killed with SIGKILL
// mid-run loses no call, and calls queued before any worker exists complete once one starts,
// while calls past their deadline fail and never run.
import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import { callQueue, DEFAULT_PREFIX } from "../../src/wire/amqp/conventions.ts";
import type { AmqpTransport } from "../../src/client/amqp.ts";
import type { RpcError } from "../../src/core/errors.ts";
import { BROKER_URL, deleteQueues, rawConnection, SKIP, waitFor } from "../fixtures/amqp_broker.ts";

const ROOT = new URL("../../", import.meta.url);
const COMPONENT = new URL("../fixtures/amqp_component.ts", import.meta.url).pathname;

interface Worker {
  child: Deno.ChildProcess;
  log: string;
  output: string[];
  done: Promise<void>;
  /** Resolves once the worker consumes its queue. */
  ready: Promise<void>;
}

/** Starts `switchboard serve --amqp` serving the fixture under interface `iface`. */
function startWorker(iface: string, log: string, prefetch: number, delayMs = 1): Worker {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "main.ts",
      "serve",
      "--component",
      COMPONENT,
      "--amqp",
      BROKER_URL,
      "--http",
      "off",
      "--tcp",
      "off",
      "--prefetch",
      String(prefetch),
    ],
    cwd: ROOT.pathname,
    env: {
      AMQP_FIXTURE_INTERFACE: iface,
      AMQP_FIXTURE_LOG: log,
      AMQP_FIXTURE_DELAY_MS: String(delayMs),
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => markReady = resolve);
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output.push(chunk);
      if (output.join("").includes("consuming ")) markReady();
    }
  };
  const done = Promise.all([drain(child.stdout), drain(child.stderr), child.status]).then(() => {});
  return { child, log, output, done, ready };
}

async function stopWorker(worker: Worker): Promise<void> {
  try {
    worker.child.kill("SIGTERM");
  } catch {
    // already gone
  }
  await worker.done;
}

async function waitReady(worker: Worker): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = new Promise<never>((_, reject) => {
    const fail = (why: string) => reject(new Error(`worker ${why}: ${worker.output.join("")}`));
    timer = setTimeout(() => fail("not ready after 30 s"), 30_000);
    worker.child.status.then((s) => fail(`exited with ${s.code}`));
  });
  failed.catch(() => {});
  try {
    await Promise.race([worker.ready, failed]);
  } finally {
    clearTimeout(timer);
  }
}

function executions(path: string): number[] {
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  return text.split("\n").filter((l) => l !== "").map(Number);
}

Deno.test({
  name: "amqp cluster: 10,000 calls over 3 workers, one killed with SIGKILL, none lost",
  ignore: SKIP,
  async fn() {
    const CALLS = 10_000, PREFETCH = 16;
    const iface = `Crash${crypto.randomUUID().slice(0, 8)}`;
    const dir = await Deno.makeTempDir({ prefix: "sb-amqp-" });
    const workers = [0, 1, 2].map((i) => startWorker(iface, `${dir}/worker${i}.log`, PREFETCH, 10));
    const client = connect(BROKER_URL, { timeout: 60_000 });
    try {
      await Promise.all(workers.map(waitReady));
      let completed = 0;
      let killedAt = -1;
      const calls = Array.from(
        { length: CALLS },
        (_, n) =>
          client.call(`${iface}.run`, { n }).then((value) => {
            completed++;
            if (completed === 3_000) {
              killedAt = completed;
              workers[0].child.kill("SIGKILL");
            }
            return value;
          }),
      );
      const settled = await Promise.allSettled(calls);
      const failures = settled.filter((s) => s.status === "rejected");
      assert.deepEqual(failures.slice(0, 3), [], `${failures.length} calls failed`);
      // Exactly once from the caller's view: one reply per call, each the right one.
      settled.forEach((s, n) => assert.deepEqual(s, { status: "fulfilled", value: n * 2 }));
      assert.equal(killedAt, 3_000);
      assert.equal((await workers[0].child.status).signal, "SIGKILL");

      // At least once underneath: every call ran; only the killed worker's unacknowledged
      // calls (at most its prefetch) may have run twice.
      const runs = workers.map((w) => executions(w.log));
      const all = runs.flat();
      const seen = new Set(all);
      assert.equal(seen.size, CALLS, "every call ran");
      const duplicates = all.length - CALLS;
      assert.ok(duplicates >= 0 && duplicates <= PREFETCH, `duplicates: ${duplicates}`);
      assert.ok(
        runs.every((r) => r.length > 0),
        `each worker ran calls: ${runs.map((r) => r.length)}`,
      );
      const ignored = (client.transport as AmqpTransport).ignoredReplies;
      console.log(
        `runs per worker ${runs.map((r) => r.length).join("/")}, re-executed ${duplicates}, ` +
          `duplicate replies ignored ${ignored}`,
      );
      // Nothing is left behind in the queue.
      const raw = await rawConnection();
      try {
        const q = await raw.channel.assertQueue(callQueue(DEFAULT_PREFIX, iface), {
          durable: true,
        });
        assert.equal(q.messageCount, 0);
      } finally {
        await raw.close();
      }
    } finally {
      await client.close();
      await Promise.all(workers.map(stopWorker));
      await deleteQueues([callQueue(DEFAULT_PREFIX, iface)]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "amqp cluster: calls wait for the first worker; expired ones fail and never run",
  ignore: SKIP,
  async fn() {
    const iface = `Wait${crypto.randomUUID().slice(0, 8)}`;
    const dir = await Deno.makeTempDir({ prefix: "sb-amqp-" });
    const client = connect(BROKER_URL);
    let worker: Worker | undefined;
    try {
      // No worker yet: these wait in the durable queue.
      const patient = Array.from(
        { length: 20 },
        (_, n) => client.call(`${iface}.run`, { n }, { timeout: 60_000 }),
      );
      const hasty = Array.from(
        { length: 5 },
        (_, i) => client.call(`${iface}.run`, { n: 1000 + i }, { timeout: 500 }),
      );
      for (const call of hasty) {
        await assert.rejects(
          call,
          (e: RpcError) => e.name === "Timeout" && /timed out after 500 ms/.test(e.message),
        );
      }
      assert.equal((client.transport as AmqpTransport).pending, 20);

      worker = startWorker(iface, `${dir}/worker.log`, 8);
      await waitReady(worker);
      assert.deepEqual(await Promise.all(patient), Array.from({ length: 20 }, (_, n) => n * 2));
      // A later call has gone through the queue after the expired ones: they never ran.
      assert.equal(await client.call(`${iface}.run`, { n: 99 }), 198);
      await waitFor(() => executions(worker!.log).includes(99), "the last call logged", 5000);
      const ran = executions(worker.log);
      assert.deepEqual(ran.filter((n) => n >= 1000), []);
      assert.equal(ran.length, 21);
    } finally {
      await client.close();
      if (worker) await stopWorker(worker);
      await deleteQueues([callQueue(DEFAULT_PREFIX, iface)]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("amqp cluster: serve --amqp refuses a bad prefetch and an unreachable broker", async () => {
  const run = async (...args: string[]) => {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "serve", "--http", "off", "--tcp", "off", ...args],
      cwd: ROOT.pathname,
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    return { code, stderr: new TextDecoder().decode(stderr) };
  };
  const bad = await run("--amqp", BROKER_URL, "--prefetch", "0");
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--prefetch: expected a positive number/);
  const down = await run("--amqp", "amqp://guest:hunter2@127.0.0.1:1");
  assert.equal(down.code, 1, down.stderr);
  assert.match(down.stderr, /cannot serve from amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/);
  assert.doesNotMatch(down.stderr, /hunter2/);
});
