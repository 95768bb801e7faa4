/**
 * The streams of one msgpack-rpc connection between Switchboard peers (docs/wire.md,
 * "Streams"): the shared stream table, its `$/stream.*` notifications written as msgpack
 * with their map as the one param (`[{ stream, … }]`).
 *
 * @module
 */

import { encodeNotification, toErrorShape } from "./codec.ts";
import { type StreamLimits, StreamTable } from "../stream_table.ts";

export {
  DEFAULT_MAX_ITEM_BYTES,
  DEFAULT_MAX_STREAMS,
  streamHandle,
  type StreamLimits,
} from "../stream_table.ts";

/** What the streams need of their session. */
export interface StreamWire {
  /** Queues a message to the peer (counted toward what the peer has left unread). */
  send(bytes: Uint8Array): void;
  /** Undefined when the peer reads its messages, else a promise of when it has. */
  ready(): Promise<void> | undefined;
  /** Names the peer in errors. */
  label(): string;
}

/** The streams of one msgpack-rpc connection, both ways. */
export class SessionStreams extends StreamTable<Uint8Array> {
  /** The streams of the session behind `wire`. */
  constructor(wire: StreamWire, limits: StreamLimits = {}) {
    super({
      encode: (method, map) => encodeNotification(method, [map]),
      bytes: (message) => message.byteLength,
      send: (message) => wire.send(message),
      ready: () => wire.ready(),
      label: () => wire.label(),
      format: "msgpack",
      readError: toErrorShape,
    }, limits);
  }

  /** Handles a `$/stream.*` notification (params `[map]`); false for any other method. */
  override receive(method: string, params: unknown, frameBytes: number): boolean {
    return super.receive(method, Array.isArray(params) ? params[0] : undefined, frameBytes);
  }
}
