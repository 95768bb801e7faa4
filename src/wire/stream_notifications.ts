/**
 * The stream messages of core/stream's table as the `$/stream.*` notifications both
 * message wires carry (docs/wire.md, "Streams"): msgpack-rpc over TCP with the map as the
 * one param (`[{ stream, … }]`), JSON-RPC over WebSocket with the map as the params. Only
 * the names and the map live here; each wire encodes the notification itself.
 *
 * @module
 */

import type { ErrorShape } from "../core/errors.ts";
import type { StreamMessage } from "../core/stream/table.ts";

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

const METHOD = {
  credit: STREAM_CREDIT,
  cancel: STREAM_CANCEL,
  item: STREAM_ITEM,
  end: STREAM_END,
  error: STREAM_ERROR,
} as const;

/** Whether `method` is one of the stream notifications' names (or reserved for them). */
export function isStreamNotification(method: string): boolean {
  return method.startsWith("$/stream.");
}

/**
 * A message as its notification: the method and the map of its params.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamNotification } from "./stream_notifications.ts";
 *
 * assert.deepEqual(streamNotification({ kind: "credit", stream: 1, n: 16 }), {
 *   method: "$/stream.credit",
 *   map: { stream: 1, n: 16 },
 * });
 * ```
 */
export function streamNotification(
  message: StreamMessage,
): { method: string; map: Record<string, unknown> } {
  const { kind, ...map } = message;
  return { method: METHOD[kind], map };
}

/**
 * A notification's map as a message, or undefined when it is malformed (dropped: late
 * messages of a cancelled stream look the same). `readError` turns a received `error` into
 * the error model, each wire by its own rules.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamMessageOf } from "./stream_notifications.ts";
 *
 * const readError = () => ({ code: -32603, name: "InternalError", message: "failed" });
 * assert.deepEqual(streamMessageOf("$/stream.end", { stream: 2, count: 3 }, readError), {
 *   kind: "end",
 *   stream: 2,
 *   count: 3,
 * });
 * assert.equal(streamMessageOf("$/stream.end", { stream: "2" }, readError), undefined);
 * ```
 */
export function streamMessageOf(
  method: string,
  map: unknown,
  readError: (value: unknown) => ErrorShape,
): StreamMessage | undefined {
  if (typeof map !== "object" || map === null) return undefined;
  const m = map as Record<string, unknown>;
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
      return { kind: "error", stream, error: readError(m.error) };
  }
  return undefined;
}
