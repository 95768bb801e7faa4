// The reconnecting AMQP connection both ends hold, against the real broker behind a TCP proxy
// that plays the network cut and the restarting broker: a loss is reported once, a healing link
// gets back by itself, a call's open waits within its time, and close leaves nothing open.
import assert from "node:assert/strict";
import { AmqpLink, type AmqpLinkOptions } from "../../../src/wire/amqp/link.ts";
import { type Proxy, SKIP, startProxy, waitFor } from "../../fixtures/amqp_broker.ts";

type LinkTo = <S>(options: Omit<AmqpLinkOptions<S>, "url">) => AmqpLink<S>;

/** A test with a proxy to the broker; the links `linkTo` makes through it are closed after. */
const test = (name: string, fn: (proxy: Proxy, linkTo: LinkTo) => Promise<void>) =>
  Deno.test({
    name: `amqp link: ${name}`,
    ignore: SKIP,
    async fn() {
      const proxy = startProxy();
      const links: AmqpLink<unknown>[] = [];
      try {
        await fn(proxy, (options) => {
          const link = new AmqpLink({ url: proxy.url, ...options });
          links.push(link as AmqpLink<unknown>);
          return link;
        });
      } finally {
        for (const link of links) await link.close();
        await proxy.close();
      }
    },
  });

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("heals by itself after an outage of several attempts", async (proxy, linkTo) => {
  const events: string[] = [];
  let setups = 0;
  const link = linkTo({
    heal: true,
    setup: () => Promise.resolve(++setups),
    onLost: () => events.push("lost"),
    onRetryFailed: () => events.push("failed"),
    onReconnected: () => events.push("reconnected"),
  });
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
});

test("unhealed, a loss is reported once; the next open connects", async (proxy, linkTo) => {
  const lost: string[] = [];
  let setups = 0;
  const link = linkTo({
    setup: () => Promise.resolve(++setups),
    onLost: (why) => lost.push(why),
  });
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
});

test("openBy waits within its time, gives up in time, stops on abort", async (proxy, linkTo) => {
  const link = linkTo({ setup: () => Promise.resolve() });
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
});

test("close stops healing and closes an attempt under way", async (proxy, linkTo) => {
  const events: string[] = [];
  const link = linkTo({
    heal: true,
    setup: () => Promise.resolve(),
    onLost: () => events.push("lost"),
    onReconnected: () => events.push("reconnected"),
  });
  await link.open();
  proxy.down = true;
  await waitFor(() => events.includes("lost"), "the loss");
  await link.close();
  proxy.down = false;
  await pause(2_500); // longer than the longest pause between attempts
  assert.deepEqual(events, ["lost"]);
  assert.equal(proxy.connections, 0);

  let release!: () => void;
  const held = linkTo({
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
});

test("a failed setup, or a loss while setting up, fails the attempt", async (proxy, linkTo) => {
  const lost: string[] = [];
  const failing = linkTo({
    setup: () => Promise.reject(new Error("no such vhost policy")),
    onLost: (why) => lost.push(why),
  });
  const cut = linkTo({
    setup: async (channel) => {
      const closed = new Promise((resolve) => channel.once("close", resolve));
      proxy.cut();
      await closed;
    },
    onLost: (why) => lost.push(why),
  });
  await assert.rejects(failing.open(), /no such vhost policy/);
  await assert.rejects(cut.open(), /the connection closed while starting/);
  await waitFor(() => proxy.connections === 0, "no connection left");
  assert.deepEqual(lost, [], "a connection that never went live is not reported lost");
  assert.equal(failing.current, undefined);
  assert.equal(cut.current, undefined);
});
