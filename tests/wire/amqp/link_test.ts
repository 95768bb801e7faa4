// The reconnecting AMQP connection both ends hold, against the real broker behind a TCP proxy
// that plays the network cut and the restarting broker: a loss is reported once, a healing link
// gets back by itself, a call's open waits within its time, and close leaves nothing open.
import assert from "node:assert/strict";
import { AmqpLink } from "../../../src/wire/amqp/link.ts";
import { SKIP, startProxy, waitFor } from "../../fixtures/amqp_broker.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `amqp link: ${name}`, ignore: SKIP, fn });

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a healing link gets back by itself after an outage of several attempts", async () => {
  const proxy = startProxy();
  const events: string[] = [];
  let setups = 0;
  const link = new AmqpLink({
    url: proxy.url,
    heal: true,
    setup: () => Promise.resolve(++setups),
    onLost: () => events.push("lost"),
    onRetryFailed: () => events.push("failed"),
    onReconnected: () => events.push("reconnected"),
  });
  try {
    assert.equal((await link.open()).state, 1);
    proxy.down = true;
    await waitFor(() => events.filter((e) => e === "failed").length >= 2, "failed retries");
    const current = () => link.current; // read afresh: it changes under the test
    assert.equal(current(), undefined);
    proxy.down = false;
    await waitFor(() => events.includes("reconnected"), "the link healed");
    assert.equal(current()?.state, 2);
    assert.equal(events.filter((e) => e === "lost").length, 1);
    assert.equal(events.filter((e) => e === "reconnected").length, 1);
  } finally {
    await link.close();
    await proxy.close();
  }
  assert.equal(link.current, undefined);
});

test("without healing, a loss is reported once and the next open connects", async () => {
  const proxy = startProxy();
  const lost: string[] = [];
  let setups = 0;
  const link = new AmqpLink({
    url: proxy.url,
    setup: () => Promise.resolve(++setups),
    onLost: (why) => lost.push(why),
  });
  try {
    const first = await link.open();
    assert.equal(await link.open(), first);
    proxy.cut();
    await waitFor(() => lost.length === 1, "the loss");
    assert.equal(link.current, undefined);
    await pause(300);
    assert.equal(setups, 1, "no reconnection in the background");
    // Callers meanwhile share one attempt.
    const [a, b] = await Promise.all([link.open(), link.open()]);
    assert.equal(a, b);
    assert.equal(a.state, 2);
    assert.deepEqual(lost.length, 1);
  } finally {
    await link.close();
    await proxy.close();
  }
});

test("openBy waits for the broker within its time, gives up in time, stops on abort", async () => {
  const proxy = startProxy();
  const link = new AmqpLink({ url: proxy.url, setup: () => Promise.resolve() });
  try {
    proxy.down = true;
    const started = performance.now();
    await assert.rejects(link.openBy(Date.now() + 700));
    const gaveUp = performance.now() - started;
    assert.ok(gaveUp < 700, `gave up after ${gaveUp} ms`);

    const controller = new AbortController();
    const aborted = link.openBy(Date.now() + 60_000, controller.signal);
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(aborted);

    const waiting = link.openBy(Date.now() + 20_000);
    setTimeout(() => proxy.down = false, 500);
    assert.ok((await waiting).channel);
  } finally {
    await link.close();
    await proxy.close();
  }
});

test("close stops healing, and an attempt under way closes its connection", async () => {
  const proxy = startProxy();
  const events: string[] = [];
  const link = new AmqpLink({
    url: proxy.url,
    heal: true,
    setup: () => Promise.resolve(),
    onLost: () => events.push("lost"),
    onReconnected: () => events.push("reconnected"),
  });
  try {
    await link.open();
    proxy.down = true;
    await waitFor(() => events.includes("lost"), "the loss");
    await link.close();
    proxy.down = false;
    await pause(2_500); // longer than the longest pause between attempts
    assert.deepEqual(events, ["lost"]);
    assert.equal(proxy.connections, 0);

    let release!: () => void;
    const held = new AmqpLink({
      url: proxy.url,
      setup: () => new Promise<void>((resolve) => release = resolve),
    });
    const opening = held.open();
    await waitFor(() => release !== undefined, "setup under way");
    const closing = held.close();
    release();
    await assert.rejects(opening, /closed while connecting/);
    await closing;
    await waitFor(() => proxy.connections === 0, "no connection left");
    await assert.rejects(held.open(), /closed/);
  } finally {
    await link.close();
    await proxy.close();
  }
});

test("a setup that fails, or a loss while setting up, fails the attempt cleanly", async () => {
  const proxy = startProxy();
  const lost: string[] = [];
  const failing = new AmqpLink({
    url: proxy.url,
    setup: () => Promise.reject(new Error("no such vhost policy")),
    onLost: (why) => lost.push(why),
  });
  const cut = new AmqpLink({
    url: proxy.url,
    setup: async (channel) => {
      const closed = new Promise((resolve) => channel.once("close", resolve));
      proxy.cut();
      await closed;
    },
    onLost: (why) => lost.push(why),
  });
  try {
    await assert.rejects(failing.open(), /no such vhost policy/);
    await assert.rejects(cut.open(), /the connection closed while starting/);
    await waitFor(() => proxy.connections === 0, "no connection left");
    assert.deepEqual(lost, [], "a connection that never went live is not reported lost");
    assert.equal(failing.current, undefined);
    assert.equal(cut.current, undefined);
  } finally {
    await failing.close();
    await cut.close();
    await proxy.close();
  }
});
