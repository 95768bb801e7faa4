// A deployed process that is alive but frozen (kill -STOP): the supervisor notices, says so
// in /status, the other processes fail calls to it at once instead of waiting on its
// sockets, and it comes back on SIGCONT — or is killed and restarted when it stays frozen.
// Real supervisor, real child processes, real sockets.

import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { deploy, MAIN, materialize, until } from "./helpers.ts";
import type { ChildStatus } from "../../src/deploy/child.ts";

const SHOP = new URL("../../examples/shop/deploy/three_processes.json", import.meta.url);

/** Rejects like `call` must: quickly (bounded generously), as Unavailable naming catalog. */
async function failsFast(call: () => Promise<unknown>, what: string): Promise<number> {
  const started = Date.now();
  await assert.rejects(call(), (error: Error) => {
    assert.equal(error.name, "Unavailable", `${what}: ${error.name}: ${error.message}`);
    assert.match(error.message, /process catalog at tcp:\/\/127\.0\.0\.1:\d+ is unavailable/);
    assert.match(error.message, /unresponsive \(no answer to its supervisor since \d{4}-/);
    return true;
  });
  return Date.now() - started;
}

function catalogOf(processes: ChildStatus[] | undefined): ChildStatus | undefined {
  return processes?.find((p) => p.name === "catalog");
}

Deno.test("deploy: a SIGSTOPped process is unresponsive in /status, calls to it fail fast and clearly, and SIGCONT brings it back", async () => {
  const file = await materialize(SHOP, (value) => {
    // Short liveness limits keep the test quick; restartAfter 0: never killed here.
    value.liveness = { interval: 250, timeout: 2000, restartAfter: 0 };
  });
  const running = deploy([file.path]);
  // The caller's own timeout is far beyond what the test allows: the front must answer.
  const front = connect(`http://127.0.0.1:${file.port(7300)}`, { timeout: 20_000 });
  let frozen: number | undefined;
  try {
    const before = await running.ready();
    const pid = catalogOf(before.processes)!.pid!;
    assert.equal(
      ((await front.call("Catalog.get", { sku: "apple" })) as { stock: number }).stock,
      10,
    );

    Deno.kill(pid, "SIGSTOP");
    frozen = pid;
    const stoppedAt = Date.now();
    // A call made at once, before anyone noticed, fails when the supervisor notices.
    const first = await failsFast(() => front.call("Catalog.get", { sku: "apple" }), "first");
    assert.ok(first < 12_000, `the first call took ${first} ms`);

    const status = await until("catalog to be unresponsive", async () => {
      const c = catalogOf((await running.status())?.processes);
      return c?.state === "unresponsive" ? c : undefined;
    }, 15_000);
    assert.equal(status.pid, pid);
    assert.equal(status.restarts, 0);
    const since = Date.parse(status.unresponsiveSince!);
    assert.ok(since >= stoppedAt - 2000 && since <= Date.now(), status.unresponsiveSince);
    assert.ok(
      running.lines.some((l) => /supervisor \| catalog is unresponsive: no answer/.test(l)),
      running.lines.join("\n"),
    );
    // The operator's views say so too: the table, and the health check anyone may read.
    const shown = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "deploy", "--status", file.path],
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    assert.match(
      new TextDecoder().decode(shown.stdout),
      new RegExp(`^catalog\\s+unresponsive for \\d+s\\s+${pid}\\s+0\\s`, "m"),
    );
    const health = await fetch(`http://127.0.0.1:${file.port(7399)}/healthz`);
    assert.equal(health.status, 503);
    await health.body?.cancel();

    // Known down: every call fails at once, none waits on the frozen process's sockets —
    // through the front, and from inside a handler (front → orders → ctx.client → catalog).
    for (let i = 0; i < 3; i++) {
      const took = await failsFast(() => front.call("Catalog.get", { sku: "apple" }), `call ${i}`);
      assert.ok(took < 3000, `call ${i} took ${took} ms`);
    }
    const nested = await failsFast(
      () => front.call("Cart.add", { cart: "k", sku: "apple", qty: 1 }),
      "nested",
    );
    assert.ok(nested < 3000, `the call through orders took ${nested} ms`);
    // The front itself still answers what does not need catalog.
    assert.deepEqual(await front.call("Cart.contents", { cart: "nobody" }), []);

    Deno.kill(pid, "SIGCONT");
    frozen = undefined;
    const back = await until("catalog to answer again", async () => {
      const c = catalogOf((await running.status())?.processes);
      return c?.state === "running" ? c : undefined;
    }, 15_000);
    assert.equal(back.pid, pid);
    assert.equal(back.restarts, 0);
    assert.equal(back.unresponsiveSince, undefined);
    // The others were told: calls go through again (front → catalog, and via orders).
    const stock = await until("a call to catalog to work again", async () => {
      try {
        return ((await front.call("Catalog.get", { sku: "apple" })) as { stock: number }).stock;
      } catch {
        return undefined;
      }
    }, 10_000);
    assert.equal(stock, 10);
    assert.deepEqual(await front.call("Cart.add", { cart: "k", sku: "apple", qty: 1 }), [
      { sku: "apple", qty: 1, price: 30 },
    ]);
    assert.ok(running.lines.some((l) => /supervisor \| catalog answers again/.test(l)));
  } finally {
    if (frozen !== undefined) Deno.kill(frozen, "SIGCONT");
    await front.close();
    assert.equal(await running.stop(), 0, running.lines.join("\n"));
    await Deno.remove(file.dir, { recursive: true });
  }
});

Deno.test("deploy: a process that stays frozen past restartAfter is killed and restarted", async () => {
  const file = await materialize(SHOP, (value) => {
    value.liveness = { interval: 250, timeout: 1500, restartAfter: 2000 };
    value.restart = { initialDelay: 100 };
  });
  const running = deploy([file.path]);
  const front = connect(`http://127.0.0.1:${file.port(7300)}`, { timeout: 20_000 });
  let frozen: number | undefined;
  try {
    const before = await running.ready();
    const pid = catalogOf(before.processes)!.pid!;
    Deno.kill(pid, "SIGSTOP");
    frozen = pid;
    const after = await until("catalog to be restarted", async () => {
      const c = catalogOf((await running.status())?.processes);
      return c?.state === "running" && c.restarts === 1 ? c : undefined;
    }, 20_000);
    frozen = undefined;
    assert.notEqual(after.pid, pid);
    assert.deepEqual(after.lastExit, { code: 137, signal: "SIGKILL" });
    assert.ok(
      running.lines.some((l) =>
        /supervisor \| catalog has not answered for \d+ ms: SIGKILL, then a restart/.test(l)
      ),
      running.lines.join("\n"),
    );
    // Its replacement serves, and the others know it is up.
    const stock = await until("a call to the new catalog to work", async () => {
      try {
        return ((await front.call("Catalog.get", { sku: "apple" })) as { stock: number }).stock;
      } catch {
        return undefined;
      }
    }, 10_000);
    assert.equal(stock, 10);
  } finally {
    if (frozen !== undefined) Deno.kill(frozen, "SIGKILL");
    await front.close();
    assert.equal(await running.stop(), 0, running.lines.join("\n"));
    await Deno.remove(file.dir, { recursive: true });
  }
});
