// Replicas as real `switchboard serve` processes under steady load from one balancing client:
// one killed with SIGKILL (no idempotent call fails, no non-idempotent call runs twice,
// executions counted in a log the processes append to), one frozen with SIGSTOP (ejected, the
// others' calls stay fast, SIGCONT brings it back).
import assert from "node:assert/strict";
import { type BalancedTransport, connect } from "../../../mod.ts";
import "../../../src/adapters/deno/tcp_client.ts";
import { type ServeProcess, startServe } from "../../fixtures/serve_process.ts";
import { Replica } from "../../fixtures/components/replica.ts";

const COMPONENT = new URL("../../fixtures/components/replica.ts", import.meta.url).pathname;

async function replicas(count: number, log: string): Promise<ServeProcess[]> {
  return await Promise.all(
    Array.from(
      { length: count },
      () =>
        startServe(["--component", COMPONENT, "--http", "off"], {
          REPLICA_LOG: log,
          REPLICA_DELAY_MS: "5",
        }),
    ),
  );
}

/** Executions per `kind n` line of the log. */
async function executions(log: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await Deno.readTextFile(log)).split("\n").filter(Boolean)) {
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return counts;
}

async function until(what: string, test: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Done {
  kind: "read" | "bump";
  n: number;
  ms: number;
  pid?: number;
  error?: Error;
}

/** `workers` loops calling until `stop()`; every call is recorded in `done`. */
function load(
  call: (kind: "read" | "bump", n: number) => Promise<{ pid: number }>,
  workers: number,
  kinds: readonly ("read" | "bump")[],
) {
  const done: Done[] = [];
  let next = 0, stopped = false;
  const loops = Array.from({ length: workers }, async () => {
    // Bounded whatever happens: a loop ends by itself after this many calls.
    for (let i = 0; i < 20_000 && !stopped; i++) {
      const n = next++;
      const kind = kinds[n % kinds.length];
      const started = performance.now();
      try {
        const { pid } = await call(kind, n);
        done.push({ kind, n, ms: performance.now() - started, pid });
      } catch (error) {
        done.push({ kind, n, ms: performance.now() - started, error: error as Error });
      }
    }
  });
  return {
    done,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

Deno.test({
  name: "replicas: kill -9 one under load: no idempotent call fails, none that is not runs twice",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "switchboard-replicas-" });
    const log = `${dir}/executions.log`;
    const procs = await replicas(3, log);
    const client = connect(procs.map((p) => p.tcp!), { timeout: 10_000 });
    const api = client.proxy(Replica);
    try {
      const traffic = load((kind, n) => api[kind]({ n }), 12, ["read", "bump"]);
      await until("300 calls", () => traffic.done.length >= 300);
      const victim = procs[0].pid;
      Deno.kill(victim, "SIGKILL");
      const killedAt = traffic.done.length;
      await until("600 more calls", () => traffic.done.length >= killedAt + 600);
      await traffic.stop();

      const reads = traffic.done.filter((d) => d.kind === "read");
      const bumps = traffic.done.filter((d) => d.kind === "bump");
      assert.deepEqual(reads.filter((d) => d.error).map((d) => d.error!.message), []);
      // After the kill, everything is answered by the survivors.
      assert.ok(traffic.done.slice(killedAt + 100).every((d) => d.pid !== victim));
      const failed = bumps.filter((d) => d.error);
      for (const { error } of failed) {
        assert.equal(error!.name, "Unavailable");
        assert.match(error!.message, /^Replica\.bump: replica tcp:\/\/127\.0\.0\.1:\d+ failed: /);
        assert.match(error!.message, /the call may have run, and Replica\.bump is not declared/);
      }
      // Only calls in flight at the kill may fail: at most one per worker.
      assert.ok(failed.length <= 12, `${failed.length} bumps failed`);
      const runs = await executions(log);
      for (const bump of bumps) {
        const count = runs.get(`bump ${bump.n}`) ?? 0;
        if (bump.error) assert.ok(count <= 1, `failed bump ${bump.n} ran ${count} times`);
        else assert.equal(count, 1, `bump ${bump.n} ran ${count} times`);
      }
      const status = (client.transport as BalancedTransport).status();
      assert.equal(status[0].state, "open", "the killed replica is ejected");
    } finally {
      await client.close();
      await Promise.all(procs.map((p) => p.stop()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "replicas: SIGSTOP one: it is ejected, the others' calls stay fast; SIGCONT brings it back",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "switchboard-replicas-" });
    const log = `${dir}/executions.log`;
    const procs = await replicas(3, log);
    const deadline = 1500;
    const client = connect(procs.map((p) => p.tcp!), {
      timeout: deadline,
      breaker: { openMs: 300, maxOpenMs: 1000 },
    });
    const api = client.proxy(Replica);
    const status = () => (client.transport as BalancedTransport).status();
    const frozen = procs[0].pid;
    let stopped = false;
    try {
      const traffic = load((kind, n) => api[kind]({ n }), 8, ["read"]);
      await until("200 calls", () => traffic.done.length >= 200);
      assert.ok(traffic.done.some((d) => d.pid === frozen), "the replica took calls before");
      Deno.kill(frozen, "SIGSTOP");
      stopped = true;
      const frozenAt = traffic.done.length;
      await until("the frozen replica to be ejected", () => status()[0].state !== "closed", 20_000);
      const ejectedAt = traffic.done.length;
      await until("400 calls after the ejection", () => traffic.done.length >= ejectedAt + 400);
      Deno.kill(frozen, "SIGCONT");
      stopped = false;
      const resumedAt = traffic.done.length;
      await until(
        "the resumed replica to answer again",
        () => traffic.done.slice(resumedAt).some((d) => d.pid === frozen),
        30_000,
      );
      await traffic.stop();

      // A call that reached the frozen replica cost one deadline, and only such calls failed.
      const failures = traffic.done.slice(frozenAt).filter((d) => d.error);
      for (const { error } of failures) assert.equal(error!.name, "Timeout", error!.message);
      // The calls in flight at the freeze (one per worker, at most) and probes after it.
      assert.ok(failures.length <= 8 + 20, `${failures.length} calls timed out`);
      const others = traffic.done.slice(ejectedAt, ejectedAt + 400).filter((d) => !d.error);
      const slowest = p99(others.map((d) => d.ms));
      assert.ok(slowest < deadline / 2, `p99 of the other replicas' calls: ${slowest} ms`);
      assert.equal(status()[0].state, "closed", "the replica is back");
    } finally {
      if (stopped) Deno.kill(frozen, "SIGCONT");
      await client.close();
      await Promise.all(procs.map((p) => p.stop()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
