/**
 * The streamed results one AMQP worker connection produces (docs/wire.md, "Streams", AMQP):
 * each travels as ordered messages to its caller's reply queue — `$/stream.item`, then
 * `$/stream.end` or `$/stream.error`, the shapes of msgpack-rpc streams — and takes its
 * caller's credit and cancel from this connection's control queue, an exclusive queue the
 * broker deletes when the connection goes (so a caller's credit to a dead worker comes back
 * unroutable). The credit, cancel and error rules are core/stream's; this file carries them.
 *
 * @module
 */

import { encodeNotification } from "../wire/msgpackrpc/codec.ts";
import {
  STREAM_CANCEL,
  STREAM_CREDIT,
  STREAM_END,
  STREAM_ERROR,
  STREAM_ITEM,
} from "../wire/msgpackrpc/reserved.ts";
import { CONTENT_TYPE, STREAM_ALIVE } from "../wire/amqp/conventions.ts";
import type { AmqpChannel } from "../wire/amqp/amqplib.ts";
import type { OpenStream } from "../core/stream/open_stream.ts";
import { StreamProducer } from "../core/stream/producer.ts";
import { type ErrorShape, errorShape, RpcError, rpcError, unencodable } from "../core/errors.ts";

/** Limits on the streams of one worker. */
export interface AmqpStreamLimits {
  /** Streams one worker connection produces at once; more are refused (default 256). */
  maxStreams?: number;
  /** Largest item message (default 1 MiB). */
  maxItemBytes?: number;
  /** How long a producer waits for credit before it ends the stream (default 60 s). */
  idleMs?: number;
}

/** Default of {@linkcode AmqpStreamLimits.maxStreams}. */
export const DEFAULT_MAX_AMQP_STREAMS = 256;
/** Default of {@linkcode AmqpStreamLimits.maxItemBytes}. */
const DEFAULT_MAX_ITEM_BYTES = 1024 * 1024;
/** Keep-alives come no more often than this, whatever silence a caller asks to be told of. */
const MIN_ALIVE_MS = 250;

/** Where one stream's messages go. */
export interface StreamAddress {
  /** The caller's reply queue. */
  replyTo: string;
  /** Echoed on every message, so the caller finds its stream. */
  correlationId?: string;
  /** The caller gives the stream up after this much silence (ms); keep-alives beat it. */
  idleMs?: number;
}

/** The streams one worker connection produces, by the id it issued. */
export class AmqpStreams {
  readonly #channel: AmqpChannel;
  readonly #control: string;
  readonly #toBuffer: (bytes: Uint8Array) => Uint8Array;
  readonly #maxStreams: number;
  readonly #maxItemBytes: number;
  readonly #idleMs?: number;
  readonly #producers = new Map<number, { producer: StreamProducer; to: StreamAddress }>();
  #closed = false;

  /** The streams of the connection whose channel is `channel` and control queue `control`. */
  constructor(
    channel: AmqpChannel,
    control: string,
    toBuffer: (bytes: Uint8Array) => Uint8Array,
    limits: AmqpStreamLimits = {},
  ) {
    this.#channel = channel;
    this.#control = control;
    this.#toBuffer = toBuffer;
    this.#maxStreams = limits.maxStreams ?? DEFAULT_MAX_AMQP_STREAMS;
    this.#maxItemBytes = limits.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
    this.#idleMs = limits.idleMs;
  }

  /** The control queue callers send credit and cancel to (the handle reply's `reply-to`). */
  get control(): string {
    return this.#control;
  }

  /** Streams open now. */
  get open(): number {
    return this.#producers.size;
  }

  /**
   * Takes a handler's stream: the handle to answer with (`{ $stream: id }`), and `start`,
   * to call once that answer is published (so it reaches the caller before any item); or
   * the error to answer with instead (`Overloaded`, the connection is closing).
   */
  produce(
    open: OpenStream,
    to: StreamAddress,
    credit: number,
  ): { handle: { $stream: number }; start: () => void } | { error: ErrorShape } {
    if (this.#closed || this.#producers.size >= this.#maxStreams) {
      const shape = this.#closed ? errorShape("Unavailable", "the worker is closing") : errorShape(
        "Overloaded",
        `too many open streams on this worker (limit ${this.#maxStreams})`,
      );
      open.stop(new RpcError(shape));
      return { error: shape };
    }
    const id = this.#freshId();
    let silent = true;
    const send = (method: string, params: Record<string, unknown>) => {
      const bytes = encodeNotification(method, [{ stream: id, ...params }]);
      silent = false;
      this.#send(to, bytes);
      return bytes;
    };
    let alive: ReturnType<typeof setInterval> | undefined;
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
        silent = false;
        this.#send(to, bytes);
      },
      end: (count) => send(STREAM_END, { count }),
      error: (error) => send(STREAM_ERROR, { error }),
    }, {
      idleMs: this.#idleMs,
      finished: () => {
        clearInterval(alive);
        this.#producers.delete(id);
      },
    });
    this.#producers.set(id, { producer, to });
    return {
      handle: { $stream: id },
      start: () => {
        if (producer.over) return;
        if (to.idleMs !== undefined) {
          // A third of the caller's bound: one lost beat never looks like a dead worker.
          alive = setInterval(() => {
            if (silent) send(STREAM_ALIVE, {});
            silent = true;
          }, Math.max(MIN_ALIVE_MS, to.idleMs / 3));
        }
        producer.grant(credit);
        producer.start();
      },
    };
  }

  /**
   * A random id no stream open here has: every caller of this worker learns its control
   * queue, so ids must not be guessable, or one caller could steer another's stream.
   */
  #freshId(): number {
    const words = new Uint32Array(2);
    for (;;) {
      crypto.getRandomValues(words);
      // 53 bits: a safe integer, as msgpack and JSON carry it exactly.
      const id = (words[0] & 0x1f_ffff) * 2 ** 32 + words[1];
      if (id > 0 && !this.#producers.has(id)) return id;
    }
  }

  #send(to: StreamAddress, bytes: Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#channel.publish("", to.replyTo, this.#toBuffer(bytes), {
        correlationId: to.correlationId,
        replyTo: this.#control,
        contentType: CONTENT_TYPE,
      });
    } catch {
      // The channel is gone: close() cancels every stream of this connection.
    }
  }

  /**
   * A message on the control queue: credit or cancel for a stream of this connection.
   * Anything else, and those for streams not open (that just ended, say), are dropped.
   */
  receive(method: string, params: unknown): void {
    const p = Array.isArray(params) ? params[0] as Record<string, unknown> : undefined;
    const id = typeof p === "object" && p !== null ? p.stream : undefined;
    if (typeof id !== "number") return;
    const producer = this.#producers.get(id)?.producer;
    if (!producer) return;
    if (method === STREAM_CREDIT && typeof p!.n === "number") producer.grant(p!.n);
    else if (method === STREAM_CANCEL) {
      producer.cancel(rpcError("Cancelled", `stream ${id} was cancelled by the consumer`));
    }
  }

  /**
   * The connection is going (or gone): every stream ends, its handler stopped with `reason`;
   * `tell` (the channel still works: a shutdown) sends each caller `$/stream.error` first, so
   * it fails at once instead of after its idle bound.
   */
  close(reason: RpcError, tell = false): void {
    if (this.#closed) return;
    const open = [...this.#producers];
    for (const [id, { producer, to }] of open) {
      if (tell) {
        this.#send(to, encodeNotification(STREAM_ERROR, [{ stream: id, error: reason.toShape() }]));
      }
      producer.cancel(reason);
    }
    this.#closed = true;
    this.#producers.clear();
  }
}
