/**
 * Server-sent events for tests: a streaming interface whose methods may be called by `GET`
 * (idempotent), and a reader of `text/event-stream` blocks from a fetch body.
 */

import { defineInterface, implement, method, t } from "../../mod.ts";
import { type FeedProbe, feedProbe } from "../fixtures/feed.ts";

export const Ticks = defineInterface("Ticks", {
  count: method({ params: { n: t.int }, result: t.stream(t.int), idempotent: true }),
  endless: method({ result: t.stream(t.string), idempotent: true }),
  /** Streams, but may not run twice: POST only. */
  once: method({ params: { n: t.int }, result: t.stream(t.int) }),
  /** Idempotent, but not a stream. */
  plain: method({ result: t.int, idempotent: true }),
});

export const Prices = defineInterface("Prices", {
  tick: method({ params: { price: t.float } }),
});

/** The largest stream `endless` makes (so that no test can run forever). */
export const ENDLESS_CAP = 1_000_000;

export function ticksImpl(probe: FeedProbe = feedProbe()) {
  return implement(Ticks, {
    async *count({ n }) {
      for (let i = 0; i < n; i++) yield i;
    },
    async *endless(_, ctx) {
      probe.produced = 0;
      probe.finallyRan = false;
      probe.started.resolve();
      ctx.signal.addEventListener("abort", () => probe.abortReason = ctx.signal.reason, {
        once: true,
      });
      try {
        for (let i = 0; i < ENDLESS_CAP; i++) {
          probe.produced = i + 1;
          yield `item ${i}`;
        }
      } finally {
        probe.finallyRan = true;
        probe.finished.resolve();
      }
    },
    async *once({ n }) {
      for (let i = 0; i < n; i++) yield i;
    },
    plain: () => 42,
  });
}

/** One block of an event stream: its fields, or its comment. */
export interface SseBlock {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** Reads the blocks of an event stream one by one, each read bounded by `ms`. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #text = "";

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** The next block, or undefined at the end of the body. */
  async next(ms = 10_000): Promise<SseBlock | undefined> {
    for (;;) {
      const at = this.#text.indexOf("\n\n");
      if (at >= 0) {
        const raw = this.#text.slice(0, at);
        this.#text = this.#text.slice(at + 2);
        return parseBlock(raw);
      }
      const { value, done } = await within(this.#reader.read(), "the next event", ms);
      if (done) return undefined;
      this.#text += this.#decoder.decode(value, { stream: true });
    }
  }

  /** The next block that is not a `: ping` comment. */
  async event(ms?: number): Promise<SseBlock | undefined> {
    for (;;) {
      const block = await this.next(ms);
      if (block?.comment === undefined || block.data !== undefined) return block;
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }
}

function parseBlock(raw: string): SseBlock {
  const block: SseBlock = {};
  for (const line of raw.split("\n")) {
    if (line.startsWith(":")) {
      block.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(":");
    const field = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^ /, "");
    if (field === "id" || field === "event" || field === "data") block[field] = value;
  }
  return block;
}

export function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
