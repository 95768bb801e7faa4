/**
 * The component of the stream benchmarks (streams.ts): a fast producer of small items, an
 * idle stream, a producer whose `finally` records when it ran (cancellation latency), and
 * the diagnostics the generator reads from the server (its heap, open idle streams).
 *
 * @module
 */

import { defineInterface, implement, method, t } from "../../mod.ts";

/** The streamed item, the same as bench.proto's `StreamItem`. */
export const StreamItem = t.struct("StreamItem", { i: t.int, s: t.string });

/** The most items one stream makes (bounded, so that no stream runs forever). */
export const MAX_ITEMS = 1_000_000_000;

/** The benchmarked interface. */
export const Streams = defineInterface("Streams", {
  items: method({
    params: { n: t.int },
    result: t.stream(StreamItem),
    doc: "`n` items {i, s: `item <i>`}, as fast as credit allows",
  }),
  idle: method({ result: t.stream(StreamItem), doc: "Yields nothing until cancelled" }),
  ticks: method({
    params: { id: t.int },
    result: t.stream(StreamItem),
    doc: "Items until cancelled; its `finally` records the time under `id`",
  }),
  finallyAt: method({
    params: { ids: t.array(t.int) },
    result: t.array(t.float),
    doc: "When each `ticks` stream's `finally` ran (ms since the epoch, -1: not yet)",
  }),
  heap: method({
    params: { gc: t.bool },
    result: t.int,
    doc: "Bytes of JavaScript heap in use, after a full GC when asked (--expose-gc)",
  }),
  idleOpen: method({ result: t.int, doc: "`idle` streams open now" }),
  ping: method({ result: t.int, doc: "1: a round trip" }),
});

/** Milliseconds since the epoch, sub-millisecond: comparable between processes. */
export const wallClock = () => performance.timeOrigin + performance.now();

/** Its implementation. */
export function streamsImpl() {
  const finallyAt = new Map<number, number>();
  let idleOpen = 0;
  return implement(Streams, {
    async *items({ n }) {
      const end = Math.min(n, MAX_ITEMS);
      for (let i = 0; i < end; i++) yield { i, s: `item ${i}` };
    },
    // deno-lint-ignore require-yield -- an idle stream: it never has an item
    async *idle(_, ctx) {
      idleOpen++;
      try {
        if (!ctx.signal.aborted) {
          await new Promise((resolve) =>
            ctx.signal.addEventListener("abort", resolve, { once: true })
          );
        }
      } finally {
        idleOpen--;
      }
    },
    async *ticks({ id }) {
      try {
        for (let i = 0; i < MAX_ITEMS; i++) yield { i, s: "tick" };
      } finally {
        finallyAt.set(id, wallClock());
      }
    },
    finallyAt: ({ ids }) =>
      ids.map((id) => {
        const at = finallyAt.get(id) ?? -1;
        finallyAt.delete(id);
        return at;
      }),
    heap: ({ gc }) => {
      const collect = (globalThis as { gc?: () => void }).gc;
      if (gc && collect) collect();
      return Deno.memoryUsage().heapUsed;
    },
    idleOpen: () => idleOpen,
    ping: () => 1,
  });
}
