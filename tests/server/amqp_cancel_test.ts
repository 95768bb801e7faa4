// Cancels and deadlines across AMQP hops against a real RabbitMQ: an aborted call stops its
// running handler, a queued one never runs, a cancel travels on through ctx.client, and a
// handler's calls carry what is left of its deadline.
import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import { defineInterface, method } from "../../src/core/idl/interface.ts";
import { t } from "../../src/core/idl/types.ts";
import { implement } from "../../src/core/implement.ts";
import { RpcError } from "../../src/core/errors.ts";
import { Router } from "../../src/core/router/router.ts";
import { serveAmqp } from "../../src/server/amqp.ts";
import { callQueue, cancelExchange, eventsExchange } from "../../src/wire/amqp/conventions.ts";
import { BROKER_URL, deleteQueues, SKIP, uniquePrefix, waitFor } from "../fixtures/amqp_broker.ts";

const quiet = { error: () => {}, warn: () => {} };

function test(name: string, fn: () => Promise<void>) {
  Deno.test({ name: `amqp cancel: ${name}`, ignore: SKIP, fn });
}

const Hold = defineInterface("Hold", {
  /** Waits until its call is cancelled ("quick": answers at once). */
  wait: method({ params: { tag: t.string }, result: t.string }),
});
const Front = defineInterface("Front", {
  /** Calls Hold.wait through ctx.client. */
  relay: method({ params: { tag: t.string }, result: t.string }),
  /** Its own deadline and the one Back saw, through ctx.client. */
  deadlines: method({ result: t.struct("Deadlines", { front: t.int, back: t.int }) }),
});
const Back = defineInterface("Back", {
  deadline: method({ result: t.int }),
});

function holder() {
  const started: string[] = [];
  const aborted: string[] = [];
  const impl = implement(Hold, {
    wait: async ({ tag }, ctx) => {
      started.push(tag);
      if (tag === "quick") return tag;
      await new Promise<void>((resolve) => {
        ctx.signal.addEventListener("abort", () => {
          aborted.push(tag);
          resolve();
        }, { once: true });
      });
      return tag;
    },
  });
  return { started, aborted, impl };
}

async function cleanup(prefix: string, interfaces: string[]) {
  await deleteQueues(interfaces.map((name) => callQueue(prefix, name)), [
    eventsExchange(prefix),
    cancelExchange(prefix),
  ]);
}

test("an aborted call stops its running handler; a queued aborted call never runs", async () => {
  const prefix = uniquePrefix("cancel");
  const hold = holder();
  const worker = await serveAmqp(new Router({ logger: quiet }).register(hold.impl), BROKER_URL, {
    prefix,
    prefetch: 1,
    logger: quiet,
  });
  const client = connect(BROKER_URL, { prefix });
  const proxy = client.proxy(Hold);
  try {
    const first = new AbortController(), second = new AbortController();
    const one = proxy.wait({ tag: "one" }, { signal: first.signal });
    await waitFor(() => hold.started.includes("one"), "the first call to run");
    // prefetch 1: the second call waits in the queue behind the first.
    const two = proxy.wait({ tag: "two" }, { signal: second.signal });
    await new Promise((resolve) => setTimeout(resolve, 200));
    second.abort();
    await assert.rejects(two, (e: unknown) => e instanceof RpcError && e.name === "Cancelled");
    // The cancels travel in order: once the first call's handler hears its own, the
    // worker has heard the second's too.
    first.abort();
    await assert.rejects(one, (e: unknown) => e instanceof RpcError && e.name === "Cancelled");
    await waitFor(() => hold.aborted.includes("one"), "the running handler's signal to abort");
    // The queue is FIFO: once a later call is answered, the second was delivered — unrun.
    assert.equal(await proxy.wait({ tag: "quick" }), "quick");
    assert.deepEqual(hold.started, ["one", "quick"]);
  } finally {
    await client.close();
    await worker.shutdown();
    await cleanup(prefix, ["Hold"]);
  }
});

test("a cancel travels on through ctx.client: the next hop's handler aborts", async () => {
  const prefix = uniquePrefix("hops");
  const hold = holder();
  const onward = connect(BROKER_URL, { prefix });
  const front = new Router({ logger: quiet, client: onward }).register(implement(Front, {
    relay: ({ tag }, ctx) => ctx.client.proxy(Hold).wait({ tag }),
    deadlines: () => ({ front: 0, back: 0 }),
  }));
  const w1 = await serveAmqp(front, BROKER_URL, { prefix, logger: quiet });
  const w2 = await serveAmqp(new Router({ logger: quiet }).register(hold.impl), BROKER_URL, {
    prefix,
    logger: quiet,
  });
  const client = connect(BROKER_URL, { prefix });
  try {
    const controller = new AbortController();
    const call = client.proxy(Front).relay({ tag: "far" }, { signal: controller.signal });
    await waitFor(() => hold.started.includes("far"), "the last hop to run");
    controller.abort();
    await assert.rejects(call, (e: unknown) => e instanceof RpcError && e.name === "Cancelled");
    await waitFor(() => hold.aborted.includes("far"), "the last hop's signal to abort");
  } finally {
    await client.close();
    await w1.shutdown();
    await w2.shutdown();
    await onward.close();
    await cleanup(prefix, ["Front", "Hold"]);
  }
});

test("a handler's ctx.client call carries what is left of its deadline in the AMQP header", async () => {
  const prefix = uniquePrefix("deadline");
  const onward = connect(BROKER_URL, { prefix });
  const front = new Router({ logger: quiet, client: onward }).register(implement(Front, {
    relay: ({ tag }) => tag,
    deadlines: async (_, ctx) => ({
      front: ctx.deadline ?? 0,
      back: await ctx.client.proxy(Back).deadline(),
    }),
  }));
  const back = new Router({ logger: quiet }).register(implement(Back, {
    deadline: (_, ctx) => ctx.deadline ?? 0,
  }));
  const w1 = await serveAmqp(front, BROKER_URL, { prefix, logger: quiet });
  const w2 = await serveAmqp(back, BROKER_URL, { prefix, logger: quiet });
  // The onward client's own default timeout (30 s) is far longer: only inheritance explains
  // a deadline within the caller's.
  const client = connect(BROKER_URL, { prefix });
  try {
    const before = Date.now();
    const seen = await client.proxy(Front).deadlines(undefined, { timeout: 5000 });
    assert.ok(
      seen.front >= before + 5000 && seen.front <= Date.now() + 5000,
      `front ${seen.front}`,
    );
    assert.ok(seen.back > before, `back ${seen.back}`);
    // Rounding to whole ms may add one.
    assert.ok(seen.back <= seen.front + 2, `back ${seen.back} after front ${seen.front}`);
  } finally {
    await client.close();
    await w1.shutdown();
    await w2.shutdown();
    await onward.close();
    await cleanup(prefix, ["Front", "Back"]);
  }
});
