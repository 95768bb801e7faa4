/**
 * The streams of one connection between Switchboard peers (docs/wire.md, "Streams"), on
 * any transport that sends messages both ways: the handles this side issued for its
 * handlers' streamed results and its callers' stream params, the streams it reads from the
 * peer, and the `$/stream.*` notifications between them. The credit, cancel and error
 * rules are core/stream's; a wire (msgpack-rpc over TCP, JSON-RPC over WebSocket) only
 * says how a notification whose params are one map is written and sent.
 *
 * @module
 */

import type { Outcome } from "../core/context.ts";
import {
  asRpcError,
  type ErrorShape,
  errorShape,
  RpcError,
  rpcError,
  unencodable,
} from "../core/errors.ts";
import { OpenStream } from "../core/stream/open_stream.ts";
import { isStreamSource } from "../core/stream/source.ts";
import { compile } from "../core/idl/validate.ts";
import type { Fields } from "../core/idl/types.ts";
import { StreamProducer } from "../core/stream/producer.ts";
import { StreamConsumer } from "../core/stream/consumer.ts";

/** Reserved notification `{ stream, n }`: the consumer grants `n` more items. */
export const STREAM_CREDIT = "$/stream.credit";
/** Reserved notification `{ stream }`: the consumer gave up on the stream. */
export const STREAM_CANCEL = "$/stream.cancel";
/** Reserved notification `{ stream, seq, item }`: the next item of a stream. */
export const STREAM_ITEM = "$/stream.item";
/** Reserved notification `{ stream, count }`: the stream ended after `count` items. */
export const STREAM_END = "$/stream.end";
/** Reserved notification `{ stream, error }`: the stream failed after the items sent. */
export const STREAM_ERROR = "$/stream.error";

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

/** The params of a `$/stream.*` notification. */
export type StreamMap = Record<string, unknown>;

/** What the streams need of their connection; `M` is one message as the wire carries it. */
export interface StreamWire<M> {
  /** The notification `method` with `map` as its params. Throws what the wire cannot carry. */
  encode(method: string, map: StreamMap): M;
  /** Its size in bytes (items larger than `maxItemBytes` are refused). */
  bytes(message: M): number;
  /** Queues a message to the peer (counted toward what the peer has left unread). */
  send(message: M): void;
  /** Undefined when the peer reads its messages, else a promise of when it has. */
  ready(): Promise<void> | undefined;
  /** Names the peer in errors. */
  label(): string;
  /** Names the encoding in errors (`msgpack`, `JSON`). */
  readonly format: string;
  /** The `error` of a `$/stream.error` as the error model. */
  readError(value: unknown): ErrorShape;
  /** An item as received, as a value (JSON revives its tagged strings); default as is. */
  readItem?(value: unknown): unknown;
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
export class StreamTable<M> {
  readonly #wire: StreamWire<M>;
  readonly #maxStreams: number;
  readonly #maxItemBytes: number;
  readonly #idleMs?: number;
  readonly #window?: number;
  readonly #producers = new Map<number, StreamProducer>();
  readonly #consumers = new Map<number, StreamConsumer>();
  #nextId = 1;
  #closed = false;

  /** The streams of the connection behind `wire`. */
  constructor(wire: StreamWire<M>, limits: StreamLimits = {}) {
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
        let message: M;
        try {
          message = wire.encode(STREAM_ITEM, { stream: id, seq, item });
        } catch (error) {
          throw new RpcError(unencodable(`item ${seq} of ${open.method}`, wire.format, error));
        }
        const bytes = wire.bytes(message);
        if (bytes > this.#maxItemBytes) {
          throw rpcError(
            "InternalError",
            `item ${seq} of ${open.method} is ${bytes} bytes (limit ${this.#maxItemBytes})`,
          );
        }
        wire.send(message);
      },
      end: (count) => wire.send(wire.encode(STREAM_END, { stream: id, count })),
      error: (error) => wire.send(wire.encode(STREAM_ERROR, { stream: id, error })),
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
        if (!this.#closed) wire.send(wire.encode(STREAM_CREDIT, { stream: id, n }));
      },
      cancel: () => {
        if (!this.#closed) wire.send(wire.encode(STREAM_CANCEL, { stream: id }));
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
   * Handles a `$/stream.*` notification of `messageBytes` bytes whose params are `map`;
   * false for any other method. Malformed ones, and those for streams not open, are
   * dropped (late items of a cancelled stream look the same).
   */
  receive(method: string, map: unknown, messageBytes: number): boolean {
    if (!method.startsWith("$/stream.")) return false;
    if (typeof map !== "object" || map === null) return true;
    const p = map as {
      stream?: unknown;
      n?: unknown;
      seq?: unknown;
      item?: unknown;
      count?: unknown;
      error?: unknown;
    };
    const id = p.stream;
    if (typeof id !== "number") return true;
    switch (method) {
      case STREAM_CREDIT:
        if (typeof p.n === "number") this.#producers.get(id)?.grant(p.n);
        break;
      case STREAM_CANCEL:
        this.#producers.get(id)?.cancel(
          rpcError("Cancelled", `stream ${id} was cancelled by the consumer`),
        );
        break;
      case STREAM_ITEM: {
        const consumer = this.#consumers.get(id);
        if (!consumer) break;
        if (messageBytes > this.#maxItemBytes) {
          consumer.fail(
            rpcError(
              "InvalidRequest",
              `${this.#wire.label()} sent an item of ${messageBytes} bytes (limit ${this.#maxItemBytes}); stream cancelled`,
            ),
          );
          this.#wire.send(this.#wire.encode(STREAM_CANCEL, { stream: id }));
        } else if (typeof p.seq === "number") {
          let item = p.item;
          try {
            if (this.#wire.readItem) item = this.#wire.readItem(item);
          } catch (error) {
            consumer.fail(
              rpcError(
                "InvalidRequest",
                `${this.#wire.label()} sent a bad item: ${messageOf(error)}`,
              ),
            );
            this.#wire.send(this.#wire.encode(STREAM_CANCEL, { stream: id }));
            break;
          }
          consumer.item(p.seq, item);
        }
        break;
      }
      case STREAM_END:
        if (typeof p.count === "number") this.#consumers.get(id)?.end(p.count);
        break;
      case STREAM_ERROR:
        this.#consumers.get(id)?.fail(RpcError.fromShape(this.#wire.readError(p.error)));
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
