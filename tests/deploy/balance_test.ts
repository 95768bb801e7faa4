// A deployment file's "balance" through real processes: three replicas behind a front (HTTP)
// with "round-robin" answer in turn, and with {"sticky": "n"} every call of one key reaches one
// replica while the keys spread over them. A plan that balances one interface two ways fails.

import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import { planDeployment } from "../../src/deploy/plan.ts";
import { DeploymentError } from "../../src/deploy/schema.ts";
import { deploy, freePorts } from "./helpers.ts";
import "../../deploy.ts";

const COUNTER = new URL("./fixtures/counter.ts", import.meta.url).href;

/** A block of `count` consecutive free ports (replica k listens on its port plus k-1). */
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

/** Deploys 3 counter replicas balanced by `balance` and a front; runs `fn` with the front. */
async function withBalance(
  balance: unknown,
  fn: (call: (n: number) => Promise<number>, pids: number[]) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-balance-" });
  const counter = freeBlock(3);
  const [front, status] = freePorts(2);
  const path = `${dir}/deployment.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      name: "balanced",
      processes: {
        counter: {
          components: [COUNTER],
          listen: [{ tcp: `127.0.0.1:${counter}` }],
          public: ["Counter"],
          replicas: 3,
          balance,
        },
        front: { front: [{ http: `127.0.0.1:${front}` }] },
      },
      status: `127.0.0.1:${status}`,
    }),
  );
  const running = deploy([path], { REPLICA_DELAY_MS: "0" });
  const client = connect(`http://127.0.0.1:${front}`, { timeout: 20_000 });
  try {
    const ready = await running.ready();
    const pids = ready.processes.filter((p) => p.name.startsWith("counter#")).map((p) => p.pid!);
    assert.equal(pids.length, 3);
    await fn(
      async (n) => ((await client.call("Counter.read", { n })) as { pid: number }).pid,
      pids,
    );
  } catch (error) {
    console.error(running.lines.filter((l) => !l.includes('"msg":"call"')).slice(-40).join("\n"));
    throw error;
  } finally {
    await client.close();
    assert.equal(await running.stop(), 0);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test('deploy "balance": "round-robin": calls through the front reach the replicas in turn', async () => {
  await withBalance("round-robin", async (call, pids) => {
    const seen: number[] = [];
    // One at a time, so nothing but the strategy decides.
    for (let n = 0; n < 30; n++) seen.push(await call(n));
    assert.deepEqual(new Set(seen), new Set(pids));
    const turn = seen.slice(0, 3);
    assert.equal(new Set(turn).size, 3, `not in turn: ${seen}`);
    seen.forEach((pid, i) => assert.equal(pid, turn[i % 3], `call ${i}: ${seen}`));
  });
});

Deno.test('deploy "balance": {"sticky": "n"}: one key stays on one replica, the keys spread', async () => {
  await withBalance({ sticky: "n" }, async (call, pids) => {
    const byKey = new Map<number, Set<number>>();
    for (let round = 0; round < 4; round++) {
      for (let n = 0; n < 12; n++) {
        const pid = await call(n);
        byKey.set(n, (byKey.get(n) ?? new Set()).add(pid));
      }
    }
    for (const [n, where] of byKey) assert.equal(where.size, 1, `key ${n} moved: ${[...where]}`);
    const used = new Set([...byKey.values()].map((where) => [...where][0]));
    assert.ok(used.size >= 2, `12 keys all on one replica of ${pids}`);
  });
});

Deno.test('deploy "balance": one interface served by two processes balanced two ways is refused', async () => {
  const [a, b] = freePorts(2);
  const value = {
    processes: {
      a: { components: [COUNTER], listen: [{ tcp: `127.0.0.1:${a}` }], balance: "round-robin" },
      b: { components: [COUNTER], listen: [{ tcp: `127.0.0.1:${b}` }], balance: { sticky: "n" } },
    },
  };
  const error = await planDeployment(value, new URL(import.meta.url)).then(
    () => assert.fail("planned"),
    (error) => error,
  );
  assert.ok(error instanceof DeploymentError);
  assert.deepEqual(
    error.problems.map((p: { path: string; message: string }) => `${p.path}: ${p.message}`),
    [
      '$.processes.b.balance: Counter is also served by process a, whose "balance" is "round-robin": one interface is balanced one way; give both the same',
    ],
  );
  // The same way twice is fine, and the plan carries it to every process.
  value.processes.b.balance = "round-robin" as never;
  const plan = await planDeployment(value, new URL(import.meta.url));
  assert.deepEqual(plan.balance, { Counter: "round-robin" });
});
