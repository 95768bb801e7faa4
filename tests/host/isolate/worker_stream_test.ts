// Streams across the link to a worker component and a component process: items flow one by
// one with credit (a slow reader holds the component's generator), a reader's break reaches
// the generator (its signal aborts, its finally runs), errors mid-stream keep their name, a
// component that dies mid-stream fails the reader with Unavailable after the items it got,
// stream params flow into the component, and a component's ctx.client streams too.
import assert from "node:assert/strict";
import { Server } from "../../../src/adapters/deno/server.ts";
import { connect } from "../../../src/client/connect.ts";
import type { Client } from "../../../src/core/client/client.ts";
import { RpcError } from "../../../src/core/errors.ts";
import { MAX_STREAM_WINDOW } from "../../../src/core/stream/consumer.ts";
import { implement } from "../../../mod.ts";
import { loadComponents, type PlacedComponents } from "../../../deploy.ts";
import type { Sandbox } from "../../../src/host/isolate/worker_spawn.ts";
import { Numbers, Streamer } from "../../fixtures/components/streamer.ts";
import "../../../src/adapters/deno/tcp_client.ts";

const STREAMER = new URL("../../fixtures/components/streamer.ts", import.meta.url).href;

interface Setup {
  client: Client;
  /** The server's TCP URL. */
  url: string;
  placed: PlacedComponents;
  logged: string[];
  /** How far the component's producer got, and whether its finally ran. */
  state(): Promise<{ produced: number; finished: number; aborted?: string }>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A server with the streamer isolated, a client over TCP, and Numbers served by another
 * server that the component's ctx.client reaches over TCP.
 */
async function setup(isolate: Sandbox = "worker"): Promise<Setup> {
  const logged: string[] = [];
  const logger = { error: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };
  const numbers = new Server({ logger });
  numbers.register(implement(Numbers, {
    async *range({ n }) {
      for (let i = 0; i < n; i++) yield i;
    },
    async sum({ values }) {
      let total = 0;
      for await (const v of values) total += v;
      return total;
    },
    async *double({ values }) {
      for await (const v of values) yield v * 2;
    },
  }));
  const numbersTcp = await numbers.listenTcp({ hostname: "127.0.0.1", port: 0 });
  const numbersClient = connect(numbersTcp.url);
  const server = new Server({ logger });
  const placed = await loadComponents([{ url: STREAMER, isolate }], {
    client: () => numbersClient,
    logger,
  });
  server.register(...placed.implementations);
  const tcp = await server.listenTcp({ hostname: "127.0.0.1", port: 0 });
  const client = connect(tcp.url);
  return {
    client,
    url: tcp.url,
    placed,
    logged,
    state: () => client.proxy(Streamer).state(),
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
      await placed.close();
      await numbersClient.close();
      await numbers.close();
    },
  };
}

/** Polls `test` until it holds (bounded: a test never hangs). */
async function eventually(test: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await test()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const pause = (ms = 200) => new Promise((resolve) => setTimeout(resolve, ms));

async function readAll<T>(stream: AsyncIterable<T>): Promise<{ items: T[]; error?: RpcError }> {
  const items: T[] = [];
  try {
    for await (const item of stream) items.push(item);
    return { items };
  } catch (error) {
    assert.ok(error instanceof RpcError, String(error));
    return { items, error };
  }
}

for (const isolate of ["worker", "process"] as const) {
  Deno.test(`${isolate} streams: a streamed result arrives item by item and ends normally`, async () => {
    await using s = await setup(isolate);
    const { items, error } = await readAll(s.client.proxy(Streamer).count({ n: 50 }));
    assert.equal(error, undefined);
    assert.deepEqual(items, Array.from({ length: 50 }, (_, i) => i));
    // More than maxStreamItems would have failed as one array: it is no array any more.
    const many = await readAll(s.client.proxy(Streamer).count({ n: 10_001 }));
    assert.equal(many.items.length, 10_001, many.error?.message);
  });

  Deno.test(`${isolate} streams: a slow reader holds the component's generator within the window`, async () => {
    await using s = await setup(isolate);
    const iterator = s.client.proxy(Streamer).endless()[Symbol.asyncIterator]();
    let read = 0;
    for (; read < 5; read++) await iterator.next();
    await pause();
    // The reader's window at the client, the host's own at the worker link, in between.
    const bound = read + 2 * MAX_STREAM_WINDOW + 2;
    let { produced } = await s.state();
    assert.ok(produced <= bound, `produced ${produced} after ${read} read`);
    for (; read < 80; read++) await iterator.next();
    await pause();
    ({ produced } = await s.state());
    assert.ok(produced >= read && produced <= read + 2 * MAX_STREAM_WINDOW + 2, `${produced}`);
    await iterator.return!();
    await eventually(async () => (await s.state()).finished === 1, "the generator's finally");
  });

  Deno.test(`${isolate} streams: break reaches the component's generator (signal aborted, finally ran)`, async () => {
    await using s = await setup(isolate);
    for await (const item of s.client.proxy(Streamer).endless()) if (item === "item 3") break;
    await eventually(async () => (await s.state()).finished === 1, "the generator's finally");
    const state = await s.state();
    assert.equal(state.aborted, "Cancelled");
    assert.ok(state.produced < 100, `produced ${state.produced}`);
  });

  Deno.test(`${isolate} streams: an aborted signal and a reader that disconnects end the component's generator`, async () => {
    await using s = await setup(isolate);
    const controller = new AbortController();
    let read = 0;
    await assert.rejects(async () => {
      for await (const _ of s.client.proxy(Streamer).endless({}, { signal: controller.signal })) {
        if (++read === 3) controller.abort();
      }
    }, { name: "Cancelled" });
    await eventually(async () => (await s.state()).finished === 1, "the finally after abort");
    // A reader whose connection goes: the host cancels the stream into the component.
    const other = connect(s.url);
    const iterator = other.proxy(Streamer).endless()[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) await iterator.next();
    await other.close();
    await eventually(async () => (await s.state()).finished === 2, "the finally after disconnect");
    const state = await s.state();
    assert.ok(state.produced < 100, `produced ${state.produced}`);
  });

  Deno.test(`${isolate} streams: an error mid-stream keeps its name, after the items`, async () => {
    await using s = await setup(isolate);
    const { items, error } = await readAll(s.client.proxy(Streamer).failAfter({ n: 3 }));
    assert.deepEqual(items, [0, 1, 2]);
    assert.equal(error?.name, "Refused");
    assert.match(error!.message, /failed after 3/);
  });

  Deno.test(`${isolate} streams: a component that dies mid-stream fails the reader Unavailable after its items`, async () => {
    await using s = await setup(isolate);
    const { items, error } = await readAll(s.client.proxy(Streamer).crashAfter({ n: 4 }));
    assert.deepEqual(items, [0, 1, 2, 3]);
    assert.equal(error?.name, "Unavailable", error?.message);
    assert.match(error!.message, /crashed/);
    // A fresh worker serves the next stream.
    assert.deepEqual((await readAll(s.client.proxy(Streamer).count({ n: 3 }))).items, [0, 1, 2]);
    assert.equal(s.placed.components[0].worker!.restarts, 1);
  });

  Deno.test(`${isolate} streams: stream params flow into the component, alone and with a streamed result`, async () => {
    await using s = await setup(isolate);
    let made = 0;
    let finished = false;
    async function* values(n: number) {
      try {
        for (let i = 1; i <= n; i++, made++) yield i;
      } finally {
        finished = true;
      }
    }
    assert.equal(await s.client.proxy(Streamer).sum({ values: values(100) }), 5050);
    assert.ok(finished);
    finished = false;
    made = 0;
    // Both at once: the caller's generator is read only as the component's reads go.
    const doubled = s.client.proxy(Streamer).double({ values: values(1_000_000) });
    const got: number[] = [];
    for await (const v of doubled) {
      got.push(v);
      if (got.length === 10) break;
    }
    assert.deepEqual(got, [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    await eventually(() => Promise.resolve(finished), "the caller's generator's finally");
    // Two hops of windows at most lie between the reader and the generator.
    assert.ok(made < 4 * MAX_STREAM_WINDOW, `the caller's generator made ${made}`);
  });

  Deno.test(`${isolate} streams: a component's ctx.client streams results and params`, async () => {
    await using s = await setup(isolate);
    const { items, error } = await readAll(s.client.proxy(Streamer).relay({ n: 40 }));
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(items, Array.from({ length: 40 }, (_, i) => i + 1000));
    // Its own generators as stream params of its ctx.client calls, alone and both ways.
    assert.equal(await s.client.proxy(Streamer).sumVia({ n: 300 }), 45_150);
    const doubled = await readAll(s.client.proxy(Streamer).doubleVia({ n: 50 }));
    assert.equal(doubled.error, undefined, doubled.error?.message);
    assert.deepEqual(doubled.items, Array.from({ length: 50 }, (_, i) => 2 * (i + 1)));
  });
}
