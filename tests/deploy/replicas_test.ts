// A process with "replicas": 3 under `switchboard deploy`, real processes under steady load
// through the front (HTTP): one killed with SIGKILL (no idempotent call fails, no bump runs
// twice, in-flight bumps fail clearly), one frozen with SIGSTOP (ejected once its supervisor
// says so, the others' calls stay fast, SIGCONT brings it back), and a rolling restart
// (`deploy --restart`) that loses no call. Executions are counted in a log the replicas append to.

import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import { deploy, MAIN, until } from "./helpers.ts";
import type { DeploymentStatus } from "../../src/deploy/status.ts";
import { readStatusToken } from "../../src/deploy/status_token.ts";

const COUNTER = new URL("./fixtures/counter.ts", import.meta.url).href;
const CALLER = new URL("./fixtures/counter_caller.ts", import.meta.url).href;

/** `count` consecutive free ports on 127.0.0.1 (a replica listens on its port plus k-1). */
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
      // taken: try another block
    } finally {
      for (const l of held) l.close();
    }
  }
  throw new Error("no block of free ports");
}

async function deployment(dir: string) {
  const [counter, caller, front, status] = [freeBlock(3), freeBlock(1), freeBlock(1), freeBlock(1)];
  const value = {
    name: "replicated",
    processes: {
      counter: {
        components: [COUNTER],
        listen: [{ tcp: `127.0.0.1:${counter}` }],
        public: ["Counter"],
        replicas: 3,
      },
      caller: {
        components: [CALLER],
        listen: [{ tcp: `127.0.0.1:${caller}` }],
        public: ["CounterCaller"],
      },
      front: { front: [{ http: `127.0.0.1:${front}` }] },
    },
    status: `127.0.0.1:${status}`,
    // Short liveness limits keep the test quick; restartAfter 0: never killed here.
    liveness: { interval: 200, timeout: 1500, restartAfter: 0 },
  };
  const path = `${dir}/deployment.json`;
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2));
  return { path, front: `http://127.0.0.1:${front}`, counter, status };
}

interface Done {
  kind: "read" | "bump";
  n: number;
  ms: number;
  at: number;
  pid?: number;
  error?: Error;
}

/** `workers` loops calling the front until `stop()`; every call is recorded. */
function load(front: string, workers: number) {
  const client = connect(front, { timeout: 20_000 });
  const done: Done[] = [];
  /** Call number → start time, of the calls not yet settled. */
  const pending = new Map<number, number>();
  let next = 0, stopped = false;
  const loops = Array.from({ length: workers }, async () => {
    // Bounded whatever happens: a loop ends by itself after this many calls.
    for (let i = 0; i < 5_000 && !stopped; i++) {
      const n = next++;
      const kind = n % 2 === 0 ? "read" : "bump";
      const started = performance.now();
      pending.set(n, started);
      try {
        const { pid } = await client.call(`Counter.${kind}`, { n }) as { pid: number };
        done.push({ kind, n, ms: performance.now() - started, at: Date.now(), pid });
      } catch (error) {
        done.push({
          kind,
          n,
          ms: performance.now() - started,
          at: Date.now(),
          error: error as Error,
        });
      } finally {
        pending.delete(n);
      }
    }
  });
  return {
    done,
    /** How long the oldest unfinished call has been waiting, in ms. */
    oldest: () => pending.size ? performance.now() - Math.min(...pending.values()) : 0,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      await client.close();
    },
  };
}

/** The supervisor's GET /metrics, with the run's token. */
async function supervisorMetrics(port: number): Promise<string> {
  const token = await readStatusToken({ hostname: "127.0.0.1", port });
  const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(response.status, 200);
  return await response.text();
}

/** Executions per `kind n` line of the log. */
async function executions(log: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await Deno.readTextFile(log)).split("\n").filter(Boolean)) {
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return counts;
}

/** No call ran twice; every call answered ran exactly once. */
function assertOnce(done: Done[], runs: Map<string, number>): void {
  for (const d of done) {
    const count = runs.get(`${d.kind} ${d.n}`) ?? 0;
    if (d.kind === "bump") assert.ok(count <= 1, `bump ${d.n} ran ${count} times`);
    if (!d.error && d.kind === "bump") assert.equal(count, 1, `bump ${d.n} answered, ran ${count}`);
  }
}

function replicaOf(status: DeploymentStatus | undefined, name: string) {
  return status?.processes.find((p) => p.name === name);
}

async function settle(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
}

async function withDeployment(
  fn: (d: {
    running: ReturnType<typeof deploy>;
    file: Awaited<ReturnType<typeof deployment>>;
    log: string;
    status: DeploymentStatus;
  }) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-replicas-" });
  const log = `${dir}/executions.log`;
  const file = await deployment(dir);
  const running = deploy([file.path], { REPLICA_LOG: log, REPLICA_DELAY_MS: "20" });
  try {
    const status = await running.ready();
    await fn({ running, file, log, status });
  } catch (error) {
    // The supervisor's and processes' own lines, without the access log.
    console.error(running.lines.filter((l) => !l.includes('"msg":"call"')).slice(-60).join("\n"));
    throw error;
  } finally {
    assert.equal(await running.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deploy replicas: each replica has its name, its port and its route; kill -9 one under load: no idempotent call fails, no bump runs twice", async () => {
  await withDeployment(async ({ running, file, log, status }) => {
    assert.deepEqual(
      status.processes.map((p) => p.name),
      ["counter#1", "counter#2", "counter#3", "caller", "front"],
    );
    assert.deepEqual(
      status.routes.Counter.map((r) => [r.process, r.url]),
      [1, 2, 3].map((k) => [`counter#${k}`, `tcp://127.0.0.1:${file.counter + k - 1}`]),
    );
    // The supervisor's metrics name each replica.
    const metrics = await supervisorMetrics(file.status);
    for (const k of [1, 2, 3]) {
      assert.match(
        metrics,
        new RegExp(`^switchboard_deploy_process_up\\{process="counter#${k}".*\\} 1$`, "m"),
      );
    }
    const traffic = load(file.front, 6);
    await until("calls to flow", () => traffic.done.length > 50 || undefined);
    const victim = replicaOf(status, "counter#2")!;
    Deno.kill(victim.pid!, "SIGKILL");
    const back = await until("counter#2 to be restarted and running", async () => {
      const c = replicaOf(await running.status(), "counter#2");
      return c?.state === "running" && c.restarts === 1 ? c : undefined;
    });
    assert.notEqual(back.pid, victim.pid);
    // The restarted replica takes calls again.
    const mark = traffic.done.length;
    await until(
      "the new counter#2 to answer",
      () => traffic.done.slice(mark).some((d) => d.pid === back.pid) || undefined,
    );
    await traffic.stop();

    const reads = traffic.done.filter((d) => d.kind === "read");
    const bumps = traffic.done.filter((d) => d.kind === "bump");
    assert.deepEqual(reads.filter((d) => d.error).map((d) => d.error!.message), []);
    const failed = bumps.filter((d) => d.error);
    // Only bumps that were in flight on the killed replica (at most one per worker).
    assert.ok(failed.length <= 6, `${failed.length} bumps failed`);
    for (const d of failed) {
      assert.equal(d.error!.name, "Unavailable");
      assert.match(d.error!.message, /not retried: the call may have run/);
    }
    assertOnce(traffic.done, await executions(log));
    const pids = new Set(traffic.done.map((d) => d.pid).filter(Boolean));
    assert.ok(pids.size >= 3, `calls were served by ${pids.size} processes`);
  });
});

Deno.test("deploy replicas: ctx.client in another process balances over the replicas too", async () => {
  await withDeployment(async ({ file, status }) => {
    const client = connect(file.front, { timeout: 20_000 });
    try {
      const pids = new Set<number>();
      await Promise.all(Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; i < 30; i++) {
          const { pid } = await client.call("CounterCaller.readVia", { n: w * 100 + i }) as {
            pid: number;
          };
          pids.add(pid);
        }
      }));
      const replicas = [1, 2, 3].map((k) => replicaOf(status, `counter#${k}`)!.pid);
      assert.deepEqual([...pids].sort(), replicas.sort());
    } finally {
      await client.close();
    }
  });
});

Deno.test("deploy replicas: a SIGSTOPped replica is ejected when its supervisor says it is unresponsive, the others stay fast, SIGCONT brings it back", async () => {
  await withDeployment(async ({ running, file, status }) => {
    const traffic = load(file.front, 6);
    await until("calls to flow", () => traffic.done.length > 50 || undefined);
    const frozen = replicaOf(status, "counter#3")!;
    Deno.kill(frozen.pid!, "SIGSTOP");
    try {
      await until("counter#3 to be unresponsive", async () => {
        const c = replicaOf(await running.status(), "counter#3");
        return c?.state === "unresponsive" || undefined;
      });
      // Once its news is out, calls go to the other two only, and fast.
      await settle(300);
      const from = traffic.done.length;
      await until("200 more calls", () => traffic.done.length > from + 200 || undefined);
      const after = traffic.done.slice(from);
      assert.deepEqual(after.filter((d) => d.error).map((d) => d.error!.message), []);
      assert.ok(after.every((d) => d.pid !== frozen.pid));
      const ms = after.map((d) => d.ms).sort((a, b) => a - b);
      const p99 = ms[Math.floor(ms.length * 0.99)];
      assert.ok(p99 < 2000, `p99 of the others' calls: ${p99} ms`);
      // No call is left waiting on the frozen replica (its callers' timeout is 20 s).
      await until(
        "calls sent to counter#3 before it froze to end",
        () => traffic.oldest() < 3000 || undefined,
        10_000,
      );
    } finally {
      Deno.kill(frozen.pid!, "SIGCONT");
    }
    await until(
      "counter#3 to run again",
      async () => replicaOf(await running.status(), "counter#3")?.state === "running" || undefined,
    );
    const mark = traffic.done.length;
    await until(
      "counter#3 to take calls again",
      () => traffic.done.slice(mark).some((d) => d.pid === frozen.pid) || undefined,
    );
    await traffic.stop();
    // What was in flight on it when it froze: reads went elsewhere, bumps failed clearly.
    assert.deepEqual(
      traffic.done.filter((d) => d.kind === "read" && d.error).map((d) => d.error!.message),
      [],
    );
    for (const d of traffic.done.filter((d) => d.error)) {
      assert.match(d.error!.message, /unresponsive.*not retried: the call may have run/s);
    }
    assert.equal(replicaOf(await running.status(), "counter#3")!.restarts, 0);
  });
});

Deno.test("deploy replicas: a rolling restart (deploy --restart counter) under load loses no call and runs none twice", async () => {
  await withDeployment(async ({ running, file, log, status }) => {
    // Enough callers that a replica's connections are never idle: stopped without being
    // drained first, it would still be taking calls.
    const traffic = load(file.front, 24);
    await until("calls to flow", () => traffic.done.length > 50 || undefined);
    const restart = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "deploy", "--restart", "counter", file.path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(restart.stdout) +
      new TextDecoder().decode(restart.stderr);
    assert.equal(restart.code, 0, said);
    assert.match(said, /restarted counter#1, counter#2, counter#3/);
    const after = await running.status();
    const old = new Set(status.processes.map((p) => p.pid));
    for (const k of [1, 2, 3]) {
      const c = replicaOf(after, `counter#${k}`)!;
      assert.equal(c.state, "running");
      assert.equal(c.restarts, 1);
      assert.ok(!old.has(c.pid), `counter#${k} has a new pid`);
    }
    const mark = traffic.done.length;
    await until("100 more calls", () => traffic.done.length > mark + 100 || undefined);
    await traffic.stop();
    assert.deepEqual(
      traffic.done.filter((d) => d.error).map((d) => `${d.kind} ${d.n}: ${d.error!.message}`),
      [],
    );
    assertOnce(traffic.done, await executions(log));
    // Front unchanged.
    assert.equal(replicaOf(after, "front")!.restarts, 0);
    assert.equal(replicaOf(after, "caller")!.restarts, 0);
  });
});

Deno.test("deploy replicas: SIGHUP to deploy restarts every process, one at a time", async () => {
  await withDeployment(async ({ running, file, status }) => {
    Deno.kill(running.pid, "SIGHUP");
    // The status can say "running" a moment before the supervisor logs the last step.
    const after = await until("every process to be restarted once and running", async () => {
      const s = await running.status();
      const logged = running.lines.some((l) => /rolling restart: front is back/.test(l));
      return logged && s?.processes.every((p) => p.restarts === 1 && p.state === "running")
        ? s
        : undefined;
    });
    const old = new Set(status.processes.map((p) => p.pid));
    assert.ok(after.processes.every((p) => !old.has(p.pid)));
    // One at a time: each was back before the next was drained.
    const steps = running.lines.filter((l) => /rolling restart: (draining|.* is back)/.test(l))
      .map((l) => l.replace(/^.*rolling restart: /, ""));
    // A restart of a process the deployment does not have says so, and restarts nothing.
    const nope = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "deploy", "--restart", "nope", file.path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(nope.code, 1);
    assert.match(
      new TextDecoder().decode(nope.stderr),
      /restart nope: no process "nope" \(processes: counter#1, counter#2, counter#3, caller, front\)/,
    );
    assert.deepEqual(steps, [
      "draining counter#1",
      "counter#1 is back",
      "draining counter#2",
      "counter#2 is back",
      "draining counter#3",
      "counter#3 is back",
      "draining caller",
      "caller is back",
      "draining front",
      "front is back",
    ]);
  });
});

Deno.test("deploy replicas: a replica's port in use is named with its replica, and nothing starts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-replicas-" });
  const file = await deployment(dir);
  const holder = Deno.listen({ hostname: "127.0.0.1", port: file.counter + 1 });
  try {
    const run = deploy(["--check", file.path]);
    const out = (await run.exited, run.lines.join("\n"));
    assert.match(
      out,
      new RegExp(
        `\\$\\.processes\\.counter\\.listen\\[0\\] \\(replica 2\\): 127\\.0\\.0\\.1:${
          file.counter + 1
        } is in use by another program`,
      ),
    );
    assert.equal(await run.exited, 1);
  } finally {
    holder.close();
    await Deno.remove(dir, { recursive: true });
  }
});
