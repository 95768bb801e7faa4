/**
 * The streams of one msgpack-rpc connection between Switchboard peers (docs/wire.md,
 * "Streams"): core/stream's table, its messages carried as `$/stream.*` notifications
 * whose params are one map (`[{ stream, … }]`). The credit, cancel and error rules are
 * core/stream's; this file only encodes and decodes them.
 *
 * @module
 */

import { encodeNotification, toErrorShape } from "./codec.ts";
import { STREAM_CANCEL, STREAM_CREDIT, STREAM_END, STREAM_ERROR, STREAM_ITEM } from "./reserved.ts";
import { type StreamLimits, type StreamMessage, StreamTable } from "../../core/stream/table.ts";

export {
  DEFAULT_MAX_ITEM_BYTES,
  DEFAULT_MAX_STREAMS,
  streamHandle,
  type StreamLimits,
} from "../../core/stream/table.ts";

/** What the streams need of their session. */
export interface StreamWire {
  /** Queues a message to the peer (counted toward what the peer has left unread). */
  send(bytes: Uint8Array): void;
  /** Undefined when the peer reads its messages, else a promise of when it has. */
  ready(): Promise<void> | undefined;
  /** Names the peer in errors. */
  label(): string;
}

const METHOD = {
  credit: STREAM_CREDIT,
  cancel: STREAM_CANCEL,
  item: STREAM_ITEM,
  end: STREAM_END,
  error: STREAM_ERROR,
} as const;

/** The streams of one connection, both ways. */
export class SessionStreams extends StreamTable<Uint8Array> {
  /** The streams of the session behind `wire`. */
  constructor(wire: StreamWire, limits: StreamLimits = {}) {
    super({
      encode: ({ kind, ...params }) => encodeNotification(METHOD[kind], [params]),
      bytes: (encoded) => encoded.byteLength,
      write: (bytes) => wire.send(bytes),
      ready: () => wire.ready(),
      label: () => wire.label(),
      format: "msgpack",
    }, limits);
  }

  /**
   * Handles a `$/stream.*` notification of `frameBytes` bytes; false for any other method.
   * Malformed ones, and those for streams not open, are dropped (late items of a cancelled
   * stream look the same).
   */
  receiveNotification(method: string, params: unknown, frameBytes: number): boolean {
    if (!method.startsWith("$/stream.")) return false;
    const message = decodeStreamMessage(method, Array.isArray(params) ? params[0] : undefined);
    if (message) this.receive(message, frameBytes);
    return true;
  }
}

/** A `$/stream.*` notification's map as a message, or undefined when malformed. */
function decodeStreamMessage(method: string, p: unknown): StreamMessage | undefined {
  if (typeof p !== "object" || p === null) return undefined;
  const m = p as Record<string, unknown>;
  const stream = m.stream;
  if (typeof stream !== "number") return undefined;
  switch (method) {
    case STREAM_CREDIT:
      return typeof m.n === "number" ? { kind: "credit", stream, n: m.n } : undefined;
    case STREAM_CANCEL:
      return { kind: "cancel", stream };
    case STREAM_ITEM:
      return typeof m.seq === "number"
        ? { kind: "item", stream, seq: m.seq, item: m.item }
        : undefined;
    case STREAM_END:
      return typeof m.count === "number" ? { kind: "end", stream, count: m.count } : undefined;
    case STREAM_ERROR:
      return { kind: "error", stream, error: toErrorShape(m.error) };
  }
  return undefined;
}
