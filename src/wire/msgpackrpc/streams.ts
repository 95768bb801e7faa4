/**
 * The streams of one msgpack-rpc connection between Switchboard peers (docs/wire.md,
 * "Streams"): core/stream's table, its messages carried as `$/stream.*` notifications
 * whose params are one map (`[{ stream, … }]`). The credit, cancel and error rules are
 * core/stream's; this file only encodes and decodes them.
 *
 * @module
 */

import { encodeNotification, toErrorShape } from "./codec.ts";
import { type StreamLimits, StreamTable } from "../../core/stream/table.ts";
import {
  isStreamNotification,
  streamMessageOf,
  streamNotification,
} from "../stream_notifications.ts";

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

/** The streams of one connection, both ways. */
export class SessionStreams extends StreamTable<Uint8Array> {
  /** The streams of the session behind `wire`. */
  constructor(wire: StreamWire, limits: StreamLimits = {}) {
    super({
      encode: (message) => {
        const { method, map } = streamNotification(message);
        return encodeNotification(method, [map]);
      },
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
    if (!isStreamNotification(method)) return false;
    const message = streamMessageOf(
      method,
      Array.isArray(params) ? params[0] : undefined,
      toErrorShape,
    );
    if (message) this.receive(message, frameBytes);
    return true;
  }
}
