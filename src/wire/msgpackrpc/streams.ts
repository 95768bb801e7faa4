/**
 * The streams of one msgpack-rpc connection between Switchboard peers (docs/wire.md,
 * "Streams"): the handles this side issued for its handlers' streamed results, the streams
 * it reads from the peer, and the `$/stream.*` notifications between them. The credit,
 * cancel and error rules are core/stream's; this file only carries them.
 *
 * @module
 */

import { encodeNotification, toErrorShape } from "./codec.ts";
import { STREAM_CANCEL, STREAM_CREDIT, STREAM_END, STREAM_ERROR, STREAM_ITEM } from "./reserved.ts";
import type { Outcome } from "../../core/context.ts";
import { asRpcError, errorShape, RpcError, rpcError, unencodable } from "../../core/errors.ts";
import { OpenStream } from "../../core/stream/open_stream.ts";
import { isStreamSource } from "../../core/stream/source.ts";
import { compile } from "../../core/idl/validate.ts";
import type { Fields } from "../../core/idl/types.ts";
import { StreamProducer } from "../../core/stream/producer.ts";
import { StreamConsumer } from "../../core/stream/consumer.ts";

/** Limits on the streams of one connection. */
export interface StreamLimits {
  /** Streams this side produces on the connection at once; more are refused (default 256). */
  maxStreams?: number;
  /** Largest item message, either way (default 1 MiB). */
  maxItemBytes?: number;
  /** How long a producer waits for credit before it ends the stream (default 60 s). */
  idleMs?: number;
  /** Items this side grants at once when it reads a stream (default 16). */
  window?: number;
}

/** Default of {@linkcode StreamLimits.maxStreams}. */
export const DEFAULT_MAX_STREAMS = 256;
/** Default of {@linkcode StreamLimits.maxItemBytes}. */
export const DEFAULT_MAX_ITEM_BYTES = 1024 * 1024;

/** What the streams need of their session. */
export interface StreamWire {
  /** Queues a message to the peer (counted toward what the peer has left unread). */
  send(bytes: Uint8Array): void;
  /** Undefined when the peer reads its messages, else a promise of when it has. */
  ready(): Promise<void> | undefined;
  /** Names the peer in errors. */
  label(): string;
}

/** The stream id in a `{ "$stream": id }` handle, or undefined for any other value. */
export function streamHandle(value: unknown): number | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== "$stream") return undefined;
  const id = (value as { $stream: unknown }).$stream;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** The streams of one connection, both ways. */
export class SessionStreams {
  readonly #wire: StreamWire;
  readonly #maxStreams: number;
  readonly #maxItemBytes: number;
  readonly #idleMs?: number;
  readonly #window?: number;
  readonly #producers = new Map<number, StreamProducer>();
  readonly #consumers = new Map<number, StreamConsumer>();
  #nextId = 1;
  #closed = false;

  /** The streams of the session behind `wire`. */
  constructor(wire: StreamWire, limits: StreamLimits = {}) {
    this.#wire = wire;
    this.#maxStreams = limits.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.#maxItemBytes = limits.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
    this.#idleMs = limits.idleMs;
    this.#window = limits.window;
  }

  /** Streams this side produces now. */
  get producing(): number {
    return this.#producers.size;
  }

  /** Streams this side reads now. */
  get consuming(): number {
    return this.#consumers.size;
  }

  /** Issues a handle for a handler's stream: the answer to its request (or `Overloaded`). */
  produce(open: OpenStream): Outcome {
    if (this.#closed) {
      open.stop(rpcError("Unavailable", `connection to ${this.#wire.label()} closed`));
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
    const wire = this.#wire;
    const producer = new StreamProducer(open, {
      item: (seq, item) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeNotification(STREAM_ITEM, [{ stream: id, seq, item }]);
        } catch (error) {
          throw new RpcError(unencodable(`item ${seq} of ${open.method}`, "msgpack", error));
        }
        if (bytes.byteLength > this.#maxItemBytes) {
          throw rpcError(
            "InternalError",
            `item ${seq} of ${open.method} is ${bytes.byteLength} bytes (limit ${this.#maxItemBytes})`,
          );
        }
        wire.send(bytes);
      },
      end: (count) => wire.send(encodeNotification(STREAM_END, [{ stream: id, count }])),
      error: (error) => wire.send(encodeNotification(STREAM_ERROR, [{ stream: id, error }])),
      ready: () => wire.ready(),
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

  /** Reads the peer's stream `id` (from a handle it answered): the caller's iterable. */
  consume(id: number, label: string): StreamConsumer {
    this.#consumers.get(id)?.fail(rpcError("InvalidRequest", `${label}: stream ${id} reused`));
    const wire = this.#wire;
    const consumer = new StreamConsumer({
      credit: (n) => {
        if (!this.#closed) wire.send(encodeNotification(STREAM_CREDIT, [{ stream: id, n }]));
      },
      cancel: () => {
        if (!this.#closed) wire.send(encodeNotification(STREAM_CANCEL, [{ stream: id }]));
      },
    }, {
      window: this.#window,
      label,
      finished: () => {
        if (this.#consumers.get(id) === consumer) this.#consumers.delete(id);
      },
    });
    if (this.#closed) {
      consumer.fail(rpcError("Unavailable", `connection to ${wire.label()} closed`));
    } else if (!consumer.over) this.#consumers.set(id, consumer);
    return consumer;
  }

  /**
   * Handles a `$/stream.*` notification of `frameBytes` bytes; false for any other method.
   * Malformed ones, and those for streams not open, are dropped (late items of a cancelled
   * stream look the same).
   */
  receive(method: string, params: unknown, frameBytes: number): boolean {
    if (!method.startsWith("$/stream.")) return false;
    const p = (Array.isArray(params) ? params[0] : undefined) as
      | {
        stream?: unknown;
        n?: unknown;
        seq?: unknown;
        item?: unknown;
        count?: unknown;
        error?: unknown;
      }
      | undefined;
    const id = typeof p === "object" && p !== null ? p.stream : undefined;
    if (typeof id !== "number") return true;
    switch (method) {
      case STREAM_CREDIT:
        if (typeof p!.n === "number") this.#producers.get(id)?.grant(p!.n);
        break;
      case STREAM_CANCEL:
        this.#producers.get(id)?.cancel(
          rpcError("Cancelled", `stream ${id} was cancelled by the consumer`),
        );
        break;
      case STREAM_ITEM: {
        const consumer = this.#consumers.get(id);
        if (!consumer) break;
        if (frameBytes > this.#maxItemBytes) {
          consumer.fail(
            rpcError(
              "InvalidRequest",
              `${this.#wire.label()} sent an item of ${frameBytes} bytes (limit ${this.#maxItemBytes}); stream cancelled`,
            ),
          );
          this.#wire.send(encodeNotification(STREAM_CANCEL, [{ stream: id }]));
        } else if (typeof p!.seq === "number") {
          consumer.item(p!.seq, p!.item);
        }
        break;
      }
      case STREAM_END:
        if (typeof p!.count === "number") this.#consumers.get(id)?.end(p!.count);
        break;
      case STREAM_ERROR:
        this.#consumers.get(id)?.fail(RpcError.fromShape(toErrorShape(p!.error)));
        break;
    }
    return true;
  }

  /** The connection is gone: producers are cancelled, readers fail with `reason`. */
  close(reason: RpcError): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const producer of [...this.#producers.values()]) producer.cancel(reason);
    for (const consumer of [...this.#consumers.values()]) consumer.fail(reason);
    this.#producers.clear();
    this.#consumers.clear();
  }
}
