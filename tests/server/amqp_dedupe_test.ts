// At-most-once for idempotent methods: a call id already answered is answered from the store,
// one still running is joined, and everything else runs as it comes.
import assert from "node:assert/strict";
import { Dedupe, type DedupeStore, MemoryDedupeStore } from "../../src/server/amqp_dedupe.ts";
import type { Call, Outcome } from "../../src/core/context.ts";

const call = (id: Call["id"], method = "Jobs.start"): Call => ({ method, params: {}, id });

/** A dispatch that counts its runs and finishes when `release` is called (or at once). */
function counting(hold = false) {
  let runs = 0;
  let release!: () => void;
  const gate = hold ? new Promise<void>((resolve) => release = resolve) : Promise.resolve();
  const dispatch = async (): Promise<Outcome> => {
    const n = ++runs;
    await gate;
    return { ok: true, value: n };
  };
  return { dispatch, runs: () => runs, release: () => release() };
}

Deno.test("dedupe: a redelivered call id is answered from the store, not run again", async () => {
  const store = new MemoryDedupeStore();
  const dedupe = new Dedupe(["Jobs.start"], store);
  const jobs = counting();
  assert.deepEqual(await dedupe.run(call("c.1"), jobs.dispatch), { ok: true, value: 1 });
  assert.deepEqual(await dedupe.run(call("c.1"), jobs.dispatch), { ok: true, value: 1 });
  assert.deepEqual(await dedupe.run(call("c.2"), jobs.dispatch), { ok: true, value: 2 });
  assert.equal(jobs.runs(), 2);
  assert.equal(store.size, 2);
});

Deno.test("dedupe: a redelivery while the call still runs waits for the same outcome", async () => {
  const dedupe = new Dedupe(["Jobs.start"], new MemoryDedupeStore());
  const jobs = counting(true);
  const first = dedupe.run(call("c.1"), jobs.dispatch);
  const again = dedupe.run(call("c.1"), jobs.dispatch);
  jobs.release();
  assert.deepEqual(await Promise.all([first, again]), [
    { ok: true, value: 1 },
    { ok: true, value: 1 },
  ]);
  assert.equal(jobs.runs(), 1);
});

Deno.test("dedupe: other methods, and calls without a string id, run every time", async () => {
  const dedupe = new Dedupe((method) => method === "Jobs.start", new MemoryDedupeStore());
  const jobs = counting();
  await dedupe.run(call("c.1", "Jobs.list"), jobs.dispatch);
  await dedupe.run(call("c.1", "Jobs.list"), jobs.dispatch);
  await dedupe.run(call(7), jobs.dispatch); // a bare msgpack-rpc msgid is no idempotency key
  await dedupe.run(call(7), jobs.dispatch);
  await dedupe.run(call(undefined), jobs.dispatch);
  assert.equal(jobs.runs(), 5);
});

Deno.test("dedupe: an asynchronous store is consulted and written", async () => {
  const saved = new Map<string, Outcome>([["c.9", { ok: true, value: "from another worker" }]]);
  const store: DedupeStore = {
    get: (id) => Promise.resolve(saved.get(id)),
    set: (id, outcome) => {
      saved.set(id, outcome);
      return Promise.resolve();
    },
  };
  const dedupe = new Dedupe(["Jobs.start"], store);
  const jobs = counting();
  assert.deepEqual(await dedupe.run(call("c.9"), jobs.dispatch), {
    ok: true,
    value: "from another worker",
  });
  await dedupe.run(call("c.10"), jobs.dispatch);
  assert.equal(jobs.runs(), 1);
  assert.deepEqual(saved.get("c.10"), { ok: true, value: 1 });
});

Deno.test("dedupe: the memory store forgets the oldest beyond its limit", () => {
  const store = new MemoryDedupeStore(2);
  store.set("a", { ok: true, value: 1 });
  store.set("b", { ok: true, value: 2 });
  store.set("a", { ok: true, value: 3 }); // refreshed: now the newest
  store.set("c", { ok: true, value: 4 });
  assert.equal(store.get("b"), undefined);
  assert.deepEqual(store.get("a"), { ok: true, value: 3 });
  assert.equal(store.size, 2);
});
