/**
 * The streamed results an AMQP client reads (docs/wire.md, "Streams", AMQP): the worker
 * answers with a handle `{ $stream: id }` whose message's `reply-to` is the worker
 * connection's control queue; the items, the end and keep-alives follow, in order, on the
 * caller's reply queue under the call's correlation id. Credit and cancel go back to the
 * control queue. A stream that goes silent longer than the idle bound (the worker died:
 * keep-alives stop) or whose control queue is gone fails `Unavailable`, never as an end.
 *
 * @module
 */

import { encodeNotification, toErrorShape } from "../wire/msgpackrpc/codec.ts";
import {
  STREAM_CANCEL,
  STREAM_CREDIT,
  STREAM_END,
  STREAM_ERROR,
  STREAM_ITEM,
} from "../wire/msgpackrpc/reserved.ts";
import { CONTENT_TYPE, STREAM_ALIVE } from "../wire/amqp/conventions.ts";
import { RpcError, rpcError } from "../core/errors.ts";
import { StreamConsumer } from "../core/stream/consumer.ts";

/** How the streams send to a worker's control queue (false: the client is not connected). */
export type ControlSend = (
  queue: string,
  correlationId: string,
  body: Uint8Array,
) => boolean;

interface Entry {
  consumer: StreamConsumer;
  control: string;
  id: number;
  /** Fires after the idle bound of silence. */
  timer?: ReturnType<typeof setTimeout>;
}

/** The streams one client reads, by the msgid of the call that opened them. */
export class AmqpClientStreams {
  readonly #send: ControlSend;
  readonly #idleMs: number;
  readonly #entries = new Map<number, Entry>();

  /** Streams that send control messages with `send` and give up after `idleMs` of silence. */
  constructor(send: ControlSend, idleMs: number) {
    this.#send = send;
    this.#idleMs = idleMs;
  }

  /** Streams open now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The stream a handle opened: `control` is the worker's control queue, `window` the
   * credit the call granted already (its header), so the first grant is not sent again.
   */
  open(msgid: number, id: number, control: string, window: number, label: string): StreamConsumer {
    let granted = false;
    const entry: Entry = { consumer: undefined!, control, id };
    const control_ = (method: string, params: Record<string, unknown>) =>
      this.#send(
        control,
        String(msgid),
        encodeNotification(method, [{ stream: id, ...params }]),
      );
    entry.consumer = new StreamConsumer({
      credit: (n) => {
        if (!granted) {
          granted = true; // the call's header granted the first window
          return;
        }
        control_(STREAM_CREDIT, { n });
      },
      cancel: () => control_(STREAM_CANCEL, {}),
    }, {
      window,
      label,
      finished: () => {
        clearTimeout(entry.timer);
        if (this.#entries.get(msgid) === entry) this.#entries.delete(msgid);
      },
    });
    this.#entries.set(msgid, entry);
    this.#watch(msgid, entry);
    return entry.consumer;
  }

  /** (Re)starts the silence bound of a stream. */
  #watch(msgid: number, entry: Entry): void {
    clearTimeout(entry.timer);
    if (!(this.#idleMs > 0)) return;
    entry.timer = setTimeout(() => {
      if (this.#entries.get(msgid) !== entry) return;
      entry.consumer.fail(rpcError(
        "Unavailable",
        `no word from the worker for ${this.#idleMs} ms; the stream was cut`,
      ));
      // It may be alive but unable to reach us: tell it to stop.
      this.#send(
        entry.control,
        String(msgid),
        encodeNotification(STREAM_CANCEL, [{ stream: entry.id }]),
      );
    }, this.#idleMs);
  }

  /**
   * A stream message for the call `msgid` from control queue `from`; false when it is no
   * stream's (dropped: late messages of a stream that ended or was cancelled look the same).
   */
  receive(msgid: number, from: string | undefined, method: string, params: unknown): boolean {
    const entry = this.#entries.get(msgid);
    // Only the worker whose handle opened the stream speaks for it.
    if (!entry || from !== entry.control) return false;
    const p = (Array.isArray(params) ? params[0] : undefined) as
      | Record<string, unknown>
      | undefined;
    if (typeof p !== "object" || p === null || p.stream !== entry.id) return false;
    this.#watch(msgid, entry);
    switch (method) {
      case STREAM_ITEM:
        if (typeof p.seq === "number") entry.consumer.item(p.seq, p.item);
        break;
      case STREAM_END:
        if (typeof p.count === "number") entry.consumer.end(p.count);
        break;
      case STREAM_ERROR:
        entry.consumer.fail(RpcError.fromShape(toErrorShape(p.error)));
        break;
      case STREAM_ALIVE:
        break;
      default:
        return false;
    }
    return true;
  }

  /** A control message came back unroutable: the worker's connection (its queue) is gone. */
  returned(msgid: number, queue: string): boolean {
    const entry = this.#entries.get(msgid);
    if (!entry || entry.control !== queue) return false;
    entry.consumer.fail(rpcError(
      "Unavailable",
      "the worker producing the stream is gone (its control queue no longer exists)",
    ));
    return true;
  }

  /**
   * Every stream fails with `reason` (the connection was lost, the client closed); `tell`
   * (the connection still works) cancels each at its worker first.
   */
  failAll(reason: RpcError, tell = false): void {
    for (const [msgid, entry] of [...this.#entries]) {
      if (tell) {
        this.#send(
          entry.control,
          String(msgid),
          encodeNotification(STREAM_CANCEL, [{ stream: entry.id }]),
        );
      }
      entry.consumer.fail(reason);
    }
    this.#entries.clear();
  }
}

/** Publishes a control message: credit and cancel are small and best effort. */
export const CONTROL_PROPERTIES = { contentType: CONTENT_TYPE, mandatory: true } as const;
