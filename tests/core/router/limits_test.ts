import assert from "node:assert/strict";
import {
  connect,
  defineInterface,
  type Identity,
  implement,
  method,
  type Outcome,
  t,
} from "../../../mod.ts";
import { Router, Server } from "../../../server.ts";

/** A latch handlers wait on, so tests decide when calls finish (no timing assumptions). */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => open = resolve);
  return { open, opened };
}

/** Resolves once `predicate` holds, polling on the event loop (bounded). */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("an exclusive method called by 20 concurrent HTTP callers runs strictly one at a time", async () => {
  const Printer = defineInterface("Printer", {
    print: method({ params: { job: t.int }, result: t.int, exclusive: true }),
  });
  const events: string[] = [];
  let running = 0, peak = 0;
  const server = new Server();
  server.register(implement(Printer, {
    print: async ({ job }) => {
      running++;
      peak = Math.max(peak, running);
      events.push(`start ${job}`);
      // Yield several times so any concurrent call would get the chance to start.
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 1));
      events.push(`end ${job}`);
      running--;
      return job;
    },
  }));
  const http = await server.listenHttp({ port: 0 });
  const client = connect(http.url);
  try {
    const printer = client.proxy(Printer);
    const jobs = Array.from({ length: 20 }, (_, i) => i);
    const results = await Promise.all(jobs.map((job) => printer.print({ job })));
    assert.deepEqual(results, jobs);
    assert.equal(peak, 1);
    assert.equal(events.length, 40);
    for (let i = 0; i < 40; i += 2) {
      const job = events[i].split(" ")[1];
      assert.deepEqual([events[i], events[i + 1]], [`start ${job}`, `end ${job}`]);
    }
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("without a limit the same calls overlap (the check above can fail)", async () => {
  const Printer = defineInterface("Printer", {
    print: method({ params: { job: t.int }, result: t.int }),
  });
  const gate = latch();
  let running = 0;
  const router = new Router();
  router.register(implement(Printer, {
    print: async ({ job }) => {
      running++;
      await gate.opened;
      running--;
      return job;
    },
  }));
  const calls = Array.from(
    { length: 5 },
    (_, job) => router.dispatch({ method: "Printer.print", params: { job } }),
  );
  await until(() => running === 5, "five concurrent calls");
  gate.open();
  assert.equal((await Promise.all(calls)).filter((o) => o.ok).length, 5);
});

Deno.test("concurrency: n lets n calls run at once and queues the rest in order", async () => {
  const Pool = defineInterface("Pool", {
    work: method({ params: { n: t.int }, result: t.int, concurrency: 3 }),
  });
  const gates = Array.from({ length: 7 }, latch);
  const started: number[] = [];
  const router = new Router();
  router.register(implement(Pool, {
    work: async ({ n }) => {
      started.push(n);
      await gates[n].opened;
      return n;
    },
  }));
  const calls = gates.map((_, n) => router.dispatch({ method: "Pool.work", params: { n } }));
  await until(() => started.length === 3, "three calls to start");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(started, [0, 1, 2]);
  gates[1].open();
  await until(() => started.length === 4, "a queued call to start");
  assert.deepEqual(started, [0, 1, 2, 3]);
  for (const g of gates) g.open();
  assert.deepEqual(
    (await Promise.all(calls)).map((o) => o.ok && o.value),
    [0, 1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
});

Deno.test("a full queue refuses callers at once with Overloaded (-32004)", async () => {
  const Printer = defineInterface("Printer", {
    print: method({ params: { job: t.int }, result: t.int, exclusive: true, queue: 2 }),
  });
  const gate = latch();
  let ran = 0;
  const router = new Router();
  router.register(implement(Printer, {
    print: async ({ job }) => {
      ran++;
      await gate.opened;
      return job;
    },
  }));
  const accepted = [0, 1, 2].map((job) =>
    router.dispatch({ method: "Printer.print", params: { job } })
  );
  await until(() => ran === 1, "the first call to run");
  const refused = await router.dispatch({ method: "Printer.print", params: { job: 3 } });
  assert.ok(!refused.ok);
  assert.equal(refused.error.code, -32004);
  assert.equal(refused.error.name, "Overloaded");
  assert.match(refused.error.message, /Printer\.print is busy: 1 running and 2 queued/);
  gate.open();
  const outcomes = await Promise.all(accepted);
  assert.deepEqual(outcomes.map((o) => o.ok && o.value), [0, 1, 2]);
  // Once drained, the method accepts calls again.
  assert.deepEqual(await router.dispatch({ method: "Printer.print", params: { job: 4 } }), {
    ok: true,
    value: 4,
    plain: true,
  });
});

Deno.test("a component-wide limit covers all its methods", async () => {
  const Disk = defineInterface("Disk", {
    read: method({ result: t.string }),
    write: method({ result: t.string }),
  });
  const gate = latch();
  let running = 0, peak = 0;
  const work = (name: string) => async () => {
    running++;
    peak = Math.max(peak, running);
    await gate.opened;
    running--;
    return name;
  };
  const router = new Router();
  router.register(
    implement(Disk, { read: work("read"), write: work("write") }, { concurrency: 1, queue: 1 }),
  );
  const first = router.dispatch({ method: "Disk.read" });
  const second = router.dispatch({ method: "Disk.write" });
  await until(() => running === 1, "one call to run");
  const third = await router.dispatch({ method: "Disk.read" });
  assert.ok(!third.ok);
  assert.equal(third.error.name, "Overloaded");
  assert.match(third.error.message, /^Disk is busy/);
  gate.open();
  assert.deepEqual((await Promise.all([first, second])).map((o) => o.ok && o.value), [
    "read",
    "write",
  ]);
  assert.equal(peak, 1);
});

Deno.test("a call waiting for its method's slot does not hold a component slot", async () => {
  const Shop = defineInterface("Shop", {
    checkout: method({ params: { n: t.int }, result: t.int, exclusive: true }),
    browse: method({ result: t.string }),
  });
  const gate = latch();
  const router = new Router();
  router.register(implement(Shop, {
    checkout: async ({ n }) => {
      await gate.opened;
      return n;
    },
    browse: () => "catalogue",
  }, { concurrency: 2 }));
  const first = router.dispatch({ method: "Shop.checkout", params: { n: 1 } });
  const second = router.dispatch({ method: "Shop.checkout", params: { n: 2 } });
  // One checkout runs, one waits for the checkout slot; browse still finds a component slot.
  // (The deadline turns a wrongly held slot into a failure instead of a hang.)
  assert.deepEqual(await router.dispatch({ method: "Shop.browse", deadline: Date.now() + 5000 }), {
    ok: true,
    value: "catalogue",
    plain: true,
  });
  gate.open();
  assert.deepEqual((await Promise.all([first, second])).map((o) => o.ok && o.value), [1, 2]);
});

Deno.test("an exclusive method stays exclusive across permission domains", async () => {
  const Printer = defineInterface("Printer", {
    print: method({ result: t.string, exclusive: true }),
  });
  const gate = latch();
  let running = 0, peak = 0;
  const handler = (who: string) => async () => {
    running++;
    peak = Math.max(peak, running);
    await gate.opened;
    running--;
    return who;
  };
  const router = new Router();
  router.register(implement(Printer, { print: handler("user") }));
  router.register(implement(Printer, { print: handler("admin") }, { domain: "admin" }));
  const admin: Identity = { id: "root", roles: ["admin"] };
  const calls: Promise<Outcome>[] = [
    router.dispatch({ method: "Printer.print" }),
    router.dispatch({ method: "Printer.print", caller: admin }),
  ];
  await until(() => running === 1, "one call to run");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(running, 1);
  gate.open();
  assert.deepEqual((await Promise.all(calls)).map((o) => o.ok && o.value), ["user", "admin"]);
  assert.equal(peak, 1);
});

Deno.test("a queued call whose deadline passes leaves the queue and never runs", async () => {
  const Printer = defineInterface("Printer", {
    print: method({ params: { job: t.int }, result: t.int, exclusive: true, queue: 1 }),
  });
  const gate = latch();
  const ran: number[] = [];
  const router = new Router();
  router.register(implement(Printer, {
    print: async ({ job }) => {
      ran.push(job);
      await gate.opened;
      return job;
    },
  }));
  const first = router.dispatch({ method: "Printer.print", params: { job: 1 } });
  await until(() => ran.length === 1, "the first call to run");
  const late = await router.dispatch({
    method: "Printer.print",
    params: { job: 2 },
    deadline: Date.now() + 30,
  });
  assert.ok(!late.ok);
  assert.equal(late.error.name, "Timeout");
  // Its queue place is free again: another caller may wait.
  const third = router.dispatch({ method: "Printer.print", params: { job: 3 } });
  gate.open();
  assert.deepEqual((await Promise.all([first, third])).map((o) => o.ok && o.value), [1, 3]);
  assert.deepEqual(ran, [1, 3]);
});
