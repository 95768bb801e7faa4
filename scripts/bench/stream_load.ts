/**
 * The Switchboard side of the stream benchmarks, as its own process (run on the generators'
 * core): a typed client (`connect(url).proxy(Streams)`) over tcp://, http:// (NDJSON) or
 * ws://, in one of four modes, given as one JSON argument; prints one JSON line.
 *
 * - `items`: `streams` streams of `Streams.items` read at once, each to its end and opened
 *   again, a warm-up, then a measured window counting the items (with "window open" and
 *   "window closed" lines, as child_generator.ts reads them). `bare`: the same, read by
 *   stream_bare.ts's bare readers instead of the typed client (the server's reach).
 * - `slow`: one endless stream read at `perSecond` items/s for `durationMs`; the server's heap
 *   (after a full GC) before it opened and at the end, and its highest without GC between.
 * - `idle`: `streams` streams of `Streams.idle` open at once on the connection; the server's
 *   heap (after a full GC) before and with them all open.
 * - `cancel`: `cancels` times, a `ticks` stream read to its first item, then `break`; the time
 *   from the `break` to the producer's `finally` (the server's clock, the same machine's), and
 *   the round trip of `pings` calls of `Streams.ping` in the same run.
 *
 * Before `items`, a stream longer than the server's `maxStreamItems` is read whole: a client
 * that cannot read a stream over this URL gets the whole array, and that fails; the line then
 * says `{ unavailable }`.
 *
 * @module
 */

import { connect } from "../../mod.ts";
import "../../tcp.ts";
import { MAX_STREAM_WINDOW } from "../../src/core/stream/consumer.ts";
import { MAX_ITEMS, Streams, wallClock } from "./stream_component.ts";
import type { CellResult } from "./load.ts";
import { bareHttp, bareTcp, type Counter } from "./stream_bare.ts";

/** What the generator is asked to do. */
export type StreamLoad =
  | {
    /** `items`: the typed client; `bare`: stream_bare.ts's readers (tcp:// or http://). */
    mode: "items" | "bare";
    url: string;
    streams: number;
    warmupMs: number;
    durationMs: number;
  }
  | { mode: "slow"; url: string; perSecond: number; durationMs: number }
  | { mode: "idle"; url: string; streams: number }
  | { mode: "cancel"; url: string; cancels: number; pings: number };

/**
 * `items`' line: items/s as `cps`, items as `calls`, the shape child_generator.ts reads (no
 * latencies: NaN, null in JSON); or why this URL cannot stream.
 */
export interface ItemsResult extends CellResult {
  unavailable?: string;
}

/** `slow`'s line. */
export interface SlowResult {
  itemsRead: number;
  seconds: number;
  /** The consumer's credit window, items. */
  windowItems: number;
  heapBefore: number;
  heapAfter: number;
  /** The highest heap sampled (without GC) while the stream was read. */
  heapPeak: number;
}

/** `idle`'s line. */
export interface IdleResult {
  streams: number;
  heapBefore: number;
  heapAfter: number;
}

/** `cancel`'s line: milliseconds. */
export interface CancelResult {
  cancels: number;
  /** `break` to `finally`, each cancel, sorted. */
  latencies: number[];
  /** Round trips of `ping`, sorted. */
  roundTrips: number[];
}

/** Longer than a `Server`'s default `maxStreamItems` (10,000): only a real stream reads it. */
export const PROBE_ITEMS = 10_001;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Api = ReturnType<typeof proxyOf>;
const proxyOf = (client: ReturnType<typeof connect>) => client.proxy(Streams);

/** An item that is not the one expected: the server's answer was wrong. */
class WrongItem extends Error {}

/** Reads a stream of `n` items whole, checking each; the count. */
async function readAll(api: Api, n: number): Promise<number> {
  let next = 0;
  for await (const item of api.items({ n })) {
    if (item.i !== next++ || item.s !== `item ${item.i}`) {
      throw new WrongItem(`item ${next - 1} was ${JSON.stringify(item)}`);
    }
  }
  return next;
}

/** The typed client reading `streams` streams at once until `counter.stopped`. */
async function typed(api: Api, streams: number, counter: Counter): Promise<void> {
  const reader = async () => {
    while (!counter.stopped) {
      let next = 0;
      try {
        for await (const item of api.items({ n: MAX_ITEMS })) {
          if (item.i !== next++ || item.s !== `item ${item.i}`) {
            counter.wrong ??= `unexpected item ${JSON.stringify(item)} (expected i ${next - 1})`;
          }
          if (counter.measuring) counter.items++;
          if (counter.stopped) break;
        }
      } catch (error) {
        counter.wrong ??= error instanceof Error ? error.message : String(error);
        await sleep(10);
      }
    }
  };
  await Promise.all(Array.from({ length: streams }, reader));
}

async function items(
  api: Api,
  load: Extract<StreamLoad, { mode: "items" | "bare" }>,
): Promise<ItemsResult> {
  try {
    const read = await readAll(api, PROBE_ITEMS);
    if (read !== PROBE_ITEMS) throw new Error(`read ${read} of ${PROBE_ITEMS} items`);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const failed = { cps: NaN, p50: NaN, p99: NaN, calls: 0, errors: 0 };
    return error instanceof WrongItem ? { ...failed, wrong: why } : { ...failed, unavailable: why };
  }
  const counter: Counter = { measuring: false, stopped: false, items: 0 };
  const running = load.mode === "items"
    ? typed(api, load.streams, counter)
    : load.url.startsWith("tcp:")
    ? bareTcp(load.url, load.streams, counter)
    : bareHttp(load.url, load.streams, counter);
  await sleep(load.warmupMs);
  counter.items = 0;
  counter.measuring = true;
  console.log("window open");
  const began = performance.now();
  await sleep(load.durationMs);
  counter.measuring = false;
  const elapsed = performance.now() - began;
  const calls = counter.items;
  console.log("window closed");
  counter.stopped = true;
  await running;
  const { wrong } = counter;
  return { cps: calls / (elapsed / 1000), p50: NaN, p99: NaN, calls, errors: 0, wrong };
}

async function slow(api: Api, load: Extract<StreamLoad, { mode: "slow" }>): Promise<SlowResult> {
  const heapBefore = await api.heap({ gc: true });
  let heapPeak = heapBefore, itemsRead = 0;
  const began = performance.now();
  const iterator = api.items({ n: MAX_ITEMS })[Symbol.asyncIterator]();
  try {
    while (performance.now() - began < load.durationMs) {
      const { done } = await iterator.next();
      if (done) throw new Error("the endless stream ended");
      itemsRead++;
      heapPeak = Math.max(heapPeak, await api.heap({ gc: false }));
      await sleep(1000 / load.perSecond);
    }
    // Still open: what the producer holds for it (and whatever else the heap keeps).
    const heapAfter = await api.heap({ gc: true });
    const seconds = (performance.now() - began) / 1000;
    return {
      itemsRead,
      seconds,
      windowItems: MAX_STREAM_WINDOW,
      heapBefore,
      heapAfter,
      heapPeak,
    };
  } finally {
    await iterator.return?.();
  }
}

/** Waits until `test()` holds, checking every 100 ms, at most `ms`. */
async function until(test: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await test())) {
    if (performance.now() > deadline) throw new Error(`${what}: not after ${ms} ms`);
    await sleep(100);
  }
}

async function idle(api: Api, load: Extract<StreamLoad, { mode: "idle" }>): Promise<IdleResult> {
  const heapBefore = await api.heap({ gc: true });
  const open: AsyncIterator<unknown>[] = [];
  const pending: Promise<unknown>[] = [];
  try {
    // In batches: each open stream's call is in flight until its handle comes back.
    const batch = 500;
    for (let n = 0; n < load.streams; n += batch) {
      for (let i = n; i < Math.min(load.streams, n + batch); i++) {
        const iterator = api.idle()[Symbol.asyncIterator]();
        open.push(iterator);
        pending.push(iterator.next().catch(() => undefined)); // opens it; no item comes
      }
      await until(async () => (await api.idleOpen()) >= open.length, 60_000, "idle streams");
    }
    const heapAfter = await api.heap({ gc: true });
    return { streams: open.length, heapBefore, heapAfter };
  } finally {
    await Promise.all(open.map((it) => it.return?.()));
    await Promise.all(pending);
    await until(async () => (await api.idleOpen()) === 0, 60_000, "idle streams closed");
  }
}

async function cancel(
  api: Api,
  load: Extract<StreamLoad, { mode: "cancel" }>,
): Promise<CancelResult> {
  for (let i = 0; i < 100; i++) await api.ping(); // warm-up
  const roundTrips: number[] = [];
  for (let i = 0; i < load.pings; i++) {
    const t0 = performance.now();
    await api.ping();
    roundTrips.push(performance.now() - t0);
  }
  const breakAt: number[] = [];
  for (let id = 0; id < load.cancels; id++) {
    for await (const _ of api.ticks({ id })) {
      breakAt[id] = wallClock();
      break;
    }
  }
  const ids = breakAt.map((_, id) => id);
  const finallyAt: number[] = [];
  await until(
    async () => {
      const missing = ids.filter((id) => !(finallyAt[id] > 0));
      const got = await api.finallyAt({ ids: missing });
      missing.forEach((id, i) => got[i] > 0 && (finallyAt[id] = got[i]));
      return ids.every((id) => finallyAt[id] > 0);
    },
    30_000,
    "every producer's finally",
  );
  const sorted = (xs: number[]) => Float64Array.from(xs).sort();
  return {
    cancels: load.cancels,
    latencies: [...sorted(ids.map((id) => finallyAt[id] - breakAt[id]))],
    roundTrips: [...sorted(roundTrips)],
  };
}

async function main(load: StreamLoad): Promise<void> {
  const client = connect(load.url);
  const api = proxyOf(client);
  try {
    const result = load.mode === "slow"
      ? await slow(api, load)
      : load.mode === "idle"
      ? await idle(api, load)
      : load.mode === "cancel"
      ? await cancel(api, load)
      : await items(api, load);
    console.log(JSON.stringify(result));
  } finally {
    await client.close();
  }
}

if (import.meta.main) await main(JSON.parse(Deno.args[0]));
