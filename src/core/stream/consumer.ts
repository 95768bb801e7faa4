/**
 * The consuming end of a stream, the same on every transport: it grants the producer a
 * window of credit, holds at most that many items, tops the credit up as the application
 * reads, and tells a normal end from every other one. Over a link that tells each item's
 * size, the window grows while items are small — to about {@linkcode STREAM_WINDOW_BYTES}
 * of them, at most {@linkcode MAX_STREAM_WINDOW} — so that a round trip per window does
 * not set the pace of small items, and shrinks again when large ones come.
 *
 * @module
 */

import { type RpcError, rpcError } from "../errors.ts";
import type { RpcStream } from "../idl/types.ts";

/** What a consumer tells its producer (a transport's messages, or a local producer). */
export interface StreamUpstream {
  /** `n` more items may come. */
  credit(n: number): void;
  /** The consumer gave up: send nothing more. */
  cancel(): void;
}

/** Options of a consumer. */
export interface ConsumerOptions {
  /** Items granted at once, and the most ever held unread (default 16). */
  window?: number;
  /**
   * Let the window grow up to this many items while the items' sizes (given to `item`)
   * keep it within {@linkcode STREAM_WINDOW_BYTES}; default: a fixed window.
   */
  maxWindow?: number;
  /** Names the stream in errors (`Feed.watch`). */
  label?: string;
  /** Called once when the stream is over, however it ended (to free its table entry). */
  finished?(): void;
  /** Told when the producer broke its promise (an item beyond credit or out of order). */
  violation?(what: string): void;
}

/** Default of {@linkcode ConsumerOptions.window}: the first grant. */
export const DEFAULT_STREAM_WINDOW = 16;
/** The most a growing window reaches (see {@linkcode ConsumerOptions.maxWindow}). */
export const MAX_STREAM_WINDOW = 256;
/** The bytes of items a growing window holds at most, counted by the largest item seen. */
export const STREAM_WINDOW_BYTES = 1024 * 1024;

/** The items of a stream as they arrive, read as an `AsyncIterable`. */
export class StreamConsumer<T = unknown> implements RpcStream<T>, AsyncIterator<T> {
  readonly #upstream: StreamUpstream;
  #window: number;
  readonly #minWindow: number;
  readonly #maxWindow: number;
  /** The largest item seen, in bytes (0: no size known). */
  #largest = 0;
  readonly #label: string;
  readonly #finished?: () => void;
  readonly #violated?: (what: string) => void;
  readonly #buffer: T[] = [];
  /** Credit granted and not yet used by the producer. */
  #outstanding = 0;
  /** Items read by the application since the last grant. */
  #read = 0;
  #received = 0;
  /** Set once the producer said it ended normally. */
  #ended = false;
  /** Set once the stream failed (or was cancelled): what `next()` raises after the buffer. */
  #failure?: RpcError;
  #cancelled = false;
  #waiter?: PromiseWithResolvers<void>;

  /** A consumer that grants `upstream` its first window at once. */
  constructor(upstream: StreamUpstream, options: ConsumerOptions = {}) {
    this.#upstream = upstream;
    this.#window = Math.max(1, Math.floor(options.window ?? DEFAULT_STREAM_WINDOW));
    this.#minWindow = this.#window;
    this.#maxWindow = Math.max(this.#window, Math.floor(options.maxWindow ?? this.#window));
    this.#label = options.label ?? "stream";
    this.#finished = options.finished;
    this.#violated = options.violation;
    this.#outstanding = this.#window;
    upstream.credit(this.#window);
  }

  /** Whether the stream is over for this side (ended, failed or cancelled). */
  get over(): boolean {
    return this.#ended || this.#failure !== undefined || this.#cancelled;
  }

  /**
   * The producer's item `seq`, `bytes` its size on the wire when the link knows it. A broken
   * promise (beyond credit, out of order) fails the stream.
   */
  item(seq: number, item: T, bytes?: number): void {
    if (this.over) return;
    if (seq !== this.#received) {
      return this.#violation(`item ${seq} arrived where item ${this.#received} was due`);
    }
    if (this.#outstanding === 0) {
      return this.#violation(`item ${seq} arrived beyond the credit granted`);
    }
    this.#outstanding--;
    this.#received++;
    if (bytes !== undefined && bytes > this.#largest) this.#largest = bytes;
    this.#buffer.push(item);
    this.#wakeUp();
  }

  /** The producer says it sent `count` items and is done. */
  end(count: number): void {
    if (this.over) return;
    if (count !== this.#received) {
      this.fail(
        rpcError(
          "Unavailable",
          `${this.#label}: the stream ended after ${this.#received} of ${count} items`,
        ),
      );
      return;
    }
    this.#ended = true;
    this.#finished?.();
    this.#wakeUp();
  }

  /** The stream failed: `error` is raised after the items already received. */
  fail(error: RpcError): void {
    if (this.over) return;
    this.#failure = error;
    this.#finished?.();
    this.#wakeUp();
  }

  #violation(what: string): void {
    this.fail(rpcError("InvalidRequest", `${this.#label}: ${what}; stream cancelled`));
    this.#upstream.cancel();
    this.#violated?.(what);
  }

  #wakeUp(): void {
    this.#waiter?.resolve();
    this.#waiter = undefined;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#cancelled) return { done: true, value: undefined };
      if (this.#buffer.length !== 0) {
        const value = this.#buffer.shift()!;
        // Top up in halves of the window: one grant per several items, never more held.
        if (!this.over && ++this.#read >= Math.ceil(this.#window / 2)) this.#topUp();
        return { done: false, value };
      }
      if (this.#failure) throw this.#failure;
      if (this.#ended) return { done: true, value: undefined };
      this.#waiter ??= Promise.withResolvers();
      await this.#waiter.promise;
    }
  }

  /** Grants what brings held and granted items back to the window, sized afresh. */
  #topUp(): void {
    this.#read = 0;
    if (this.#maxWindow > this.#minWindow && this.#largest > 0) {
      const fits = Math.floor(STREAM_WINDOW_BYTES / this.#largest);
      this.#window = Math.min(this.#maxWindow, Math.max(this.#minWindow, fits));
    }
    const grant = this.#window - this.#outstanding - this.#buffer.length;
    if (grant <= 0) return; // a window that shrank: the items already granted come first
    this.#outstanding += grant;
    this.#upstream.credit(grant);
  }

  /** `break` in a `for await` lands here: the producer is cancelled. */
  async return(): Promise<IteratorResult<T>> {
    await this.cancel();
    return { done: true, value: undefined };
  }

  cancel(_reason?: unknown): Promise<void> {
    if (!this.over) {
      this.#cancelled = true;
      this.#buffer.length = 0;
      this.#finished?.();
      this.#upstream.cancel();
    }
    this.#cancelled = true;
    this.#wakeUp();
    return Promise.resolve();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this;
  }

  readable(): ReadableStream<T> {
    return new ReadableStream<T>({
      pull: async (controller) => {
        try {
          const next = await this.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
      },
      cancel: (reason) => this.cancel(reason),
    }, { highWaterMark: 0 });
  }
}
