/**
 * The streams of one link between two ends that both speak streams (a msgpack-rpc
 * connection, the link to a worker or a component process): the handles this side issued
 * for the streams it produces, the streams it reads from the other end, and the five
 * messages between them (docs/wire.md, "Streams"). The link only encodes and carries the
 * messages; credit, cancel, errors and the limits are the same for every link.
 *
 * @module
 */

import type { Outcome } from "../context.ts";
import {
  asRpcError,
  type ErrorShape,
  errorShape,
  RpcError,
  rpcError,
  unencodable,
} from "../errors.ts";
import type { Fields } from "../idl/types.ts";
import { compile } from "../idl/validate.ts";
import { MAX_STREAM_WINDOW, StreamConsumer } from "./consumer.ts";
import { OpenStream } from "./open_stream.ts";
import { StreamProducer } from "./producer.ts";
import { isStreamSource } from "./source.ts";

/** One stream message; `stream` is the id the producing end chose. */
export type StreamMessage =
  | { kind: "credit"; stream: number; n: number }
  | { kind: "cancel"; stream: number }
  | { kind: "item"; stream: number; seq: number; item: unknown }
  | { kind: "end"; stream: number; count: number }
  | { kind: "error"; stream: number; error: ErrorShape };

/** Limits on the streams of one link. */
export interface StreamLimits {
  /** Streams this side produces on the link at once; more are refused (default 256). */
  maxStreams?: number;
  /** Largest item message, either way (default 1 MiB). */
  maxItemBytes?: number;
  /** How long a producer waits for credit before it ends the stream (default 60 s). */
  idleMs?: number;
  /**
   * Items this side grants at once when it reads a stream (default: 16, growing to 256
   * while items are small; set, it stays fixed).
   */
  window?: number;
}

/** Default of {@linkcode StreamLimits.maxStreams}. */
export const DEFAULT_MAX_STREAMS = 256;
/** Default of {@linkcode StreamLimits.maxItemBytes}. */
export const DEFAULT_MAX_ITEM_BYTES = 1024 * 1024;

/** What a table needs of its link; `E` is a message as the link encodes it. */
export interface StreamLink<E> {
  /** Encodes a message (may throw: a value the link's format cannot carry). */
  encode(message: StreamMessage): E;
  /** The size of an encoded message, when the link can tell (checked against the limit). */
  bytes?(encoded: E): number;
  /** Queues an encoded message to the other end. */
  write(encoded: E): void;
  /** Undefined when the other end reads its messages, else a promise of when it has. */
  ready?(): Promise<void> | undefined;
  /** Names the other end in errors. */
  label(): string;
  /** The format, for an item it cannot encode ("msgpack", "a structured clone"). */
  readonly format: string;
  /**
   * An item as received, as a value (JSON revives its tagged strings); default: as it is.
   * Throws for an item the link cannot read: that stream is cancelled and fails.
   */
  readItem?(value: unknown): unknown;
  /**
   * The other end broke a promise of the protocol (an item beyond credit or out of order,
   * a message for a stream it was never given). Absent: the stream alone fails (a late
   * message of a stream that just ended looks the same to links that cannot tell).
   */
  violation?(problem: string): void;
}

/** The stream id in a `{ "$stream": id }` handle, or undefined for any other value. */
export function streamHandle(value: unknown): number | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== "$stream") return undefined;
  const id = (value as { $stream: unknown }).$stream;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The streams of one link, both ways. */
export class StreamTable<E = unknown> {
  readonly #link: StreamLink<E>;
  readonly #maxStreams: number;
  readonly #maxItemBytes: number;
  readonly #idleMs?: number;
  readonly #window?: number;
  readonly #producers = new Map<number, StreamProducer>();
  readonly #consumers = new Map<number, StreamConsumer>();
  #nextId = 1;
  /** The highest id of the other end's streams this side was given. */
  #peerIds = 0;
  #closed = false;

  /** The streams of `link`. */
  constructor(link: StreamLink<E>, limits: StreamLimits = {}) {
    this.#link = link;
    this.#maxStreams = limits.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.#maxItemBytes = limits.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
    this.#idleMs = limits.idleMs;
    this.#window = limits.window;
  }

  /** Largest item message accepted from the other end. */
  get maxItemBytes(): number {
    return this.#maxItemBytes;
  }

  /** Streams this side produces now. */
  get producing(): number {
    return this.#producers.size;
  }

  /** Streams this side reads now. */
  get consuming(): number {
    return this.#consumers.size;
  }

  #send(message: StreamMessage): void {
    if (!this.#closed) this.#link.write(this.#link.encode(message));
  }

  /** Issues a handle for a stream this side produces: the answer to a call (or `Overloaded`). */
  produce(open: OpenStream): Outcome {
    const link = this.#link;
    if (this.#closed) {
      open.stop(rpcError("Unavailable", `connection to ${link.label()} closed`));
      return { ok: false, error: errorShape("Unavailable", "the connection is closing") };
    }
    if (this.#producers.size >= this.#maxStreams) {
      const shape = errorShape(
        "Overloaded",
        `too many open streams on this connection (limit ${this.#maxStreams})`,
      );
      open.stop(new RpcError(shape));
      return { ok: false, error: shape };
    }
    const id = this.#nextId++;
    const producer = new StreamProducer(open, {
      item: (seq, item) => {
        if (this.#closed) return;
        let encoded: E;
        try {
          encoded = link.encode({ kind: "item", stream: id, seq, item });
        } catch (error) {
          throw new RpcError(unencodable(`item ${seq} of ${open.method}`, link.format, error));
        }
        const bytes = link.bytes?.(encoded);
        if (bytes !== undefined && bytes > this.#maxItemBytes) {
          throw rpcError(
            "InternalError",
            `item ${seq} of ${open.method} is ${bytes} bytes (limit ${this.#maxItemBytes})`,
          );
        }
        try {
          link.write(encoded);
        } catch (error) {
          throw new RpcError(unencodable(`item ${seq} of ${open.method}`, link.format, error));
        }
      },
      end: (count) => this.#send({ kind: "end", stream: id, count }),
      error: (error) => this.#send({ kind: "error", stream: id, error }),
      ready: () => link.ready?.(),
    }, { idleMs: this.#idleMs, finished: () => this.#producers.delete(id) });
    this.#producers.set(id, producer);
    producer.start();
    return { ok: true, value: { $stream: id } };
  }

  /**
   * A call's params with each `t.stream` param that is a live source (not an array, which
   * travels as it is) replaced by the handle of a stream this side produces; `opened` gets
   * their ids, to cancel if the call cannot be sent.
   */
  paramsOut(method: string, params: unknown, declared: Fields, opened: number[]): unknown {
    if (typeof params !== "object" || params === null || Array.isArray(params)) return params;
    let out: Record<string, unknown> | undefined;
    for (const [name, type] of Object.entries(declared)) {
      if (type.kind !== "stream") continue;
      const source = (params as Record<string, unknown>)[name];
      if (!isStreamSource(source) || Array.isArray(source)) continue;
      const open = new OpenStream(
        `${method} (param ${name})`,
        source,
        compile(type.items),
        new AbortController(),
        (error) => asRpcError(error).toShape(),
      );
      const handle = this.produce(open);
      if (!handle.ok) throw new RpcError(handle.error);
      opened.push((handle.value as { $stream: number }).$stream);
      (out ??= { ...params as Record<string, unknown> })[name] = handle.value;
    }
    return out ?? params;
  }

  /** The handler's view of a call's params: each stream handle becomes the stream it names. */
  paramsIn(method: string, params: unknown, names: readonly string[]): unknown {
    if (typeof params !== "object" || params === null || Array.isArray(params)) return params;
    let out: Record<string, unknown> | undefined;
    for (const name of names) {
      const id = streamHandle((params as Record<string, unknown>)[name]);
      if (id === undefined) continue;
      (out ??= { ...params as Record<string, unknown> })[name] = this.consume(
        id,
        `${method} (param ${name})`,
      );
    }
    return out ?? params;
  }

  /** Cancels streams this side produced (a call that could not be sent). */
  cancelProduced(ids: readonly number[], reason: RpcError): void {
    for (const id of ids) this.#producers.get(id)?.cancel(reason);
  }

  /** Reads the other end's stream `id` (from a handle it sent): the reader's iterable. */
  consume(id: number, label: string): StreamConsumer {
    this.#consumers.get(id)?.fail(rpcError("InvalidRequest", `${label}: stream ${id} reused`));
    if (id > this.#peerIds) this.#peerIds = id;
    const consumer = new StreamConsumer({
      credit: (n) => this.#send({ kind: "credit", stream: id, n }),
      cancel: () => this.#send({ kind: "cancel", stream: id }),
    }, {
      window: this.#window,
      // A window the limits fix stays fixed; the default grows while items are small.
      maxWindow: this.#window === undefined ? MAX_STREAM_WINDOW : undefined,
      label,
      finished: () => {
        if (this.#consumers.get(id) === consumer) this.#consumers.delete(id);
      },
      violation: (what) => this.#link.violation?.(`${label}: ${what}`),
    });
    if (this.#closed) {
      consumer.fail(rpcError("Unavailable", `connection to ${this.#link.label()} closed`));
    } else if (!consumer.over) this.#consumers.set(id, consumer);
    return consumer;
  }

  /** Tells the other end this side will not read its stream `id` (an answer nobody awaits). */
  refuse(id: number): void {
    if (id > this.#peerIds) this.#peerIds = id;
    this.#send({ kind: "cancel", stream: id });
  }

  /**
   * Handles a message from the other end, `bytes` its size on the wire when known. One for
   * a stream not open is dropped (a late message of a stream that just ended), unless the
   * stream was never given at all: that is a violation.
   */
  receive(message: StreamMessage, bytes?: number): void {
    const id = message.stream;
    switch (message.kind) {
      case "credit":
      case "cancel": {
        const producer = this.#producers.get(id);
        if (!producer) {
          if (id >= this.#nextId) this.#never(message.kind, id);
          return;
        }
        if (message.kind === "credit") producer.grant(message.n);
        else producer.cancel(rpcError("Cancelled", `stream ${id} was cancelled by the consumer`));
        return;
      }
      default: {
        const consumer = this.#consumers.get(id);
        if (!consumer) {
          if (id > this.#peerIds) this.#never(message.kind, id);
          return;
        }
        if (message.kind === "end") consumer.end(message.count);
        else if (message.kind === "error") consumer.fail(RpcError.fromShape(message.error));
        else if (bytes !== undefined && bytes > this.#maxItemBytes) {
          consumer.fail(
            rpcError(
              "InvalidRequest",
              `${this.#link.label()} sent an item of ${bytes} bytes (limit ${this.#maxItemBytes}); stream cancelled`,
            ),
          );
          this.#send({ kind: "cancel", stream: id });
        } else {
          let item = message.item;
          if (this.#link.readItem) {
            try {
              item = this.#link.readItem(item);
            } catch (error) {
              consumer.fail(
                rpcError(
                  "InvalidRequest",
                  `${this.#link.label()} sent a bad item: ${
                    error instanceof Error ? error.message : String(error)
                  }`,
                ),
              );
              this.#send({ kind: "cancel", stream: id });
              return;
            }
          }
          consumer.item(message.seq, item, bytes);
        }
      }
    }
  }

  #never(kind: string, id: number): void {
    this.#link.violation?.(`a stream ${kind} for stream ${id}, which it was never given`);
  }

  /** The link is gone: producers are cancelled, readers fail with `reason`. */
  close(reason: RpcError): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const producer of [...this.#producers.values()]) producer.cancel(reason);
    for (const consumer of [...this.#consumers.values()]) consumer.fail(reason);
    this.#producers.clear();
    this.#consumers.clear();
  }
}
