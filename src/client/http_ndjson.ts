/**
 * A streamed result read from a JSON-RPC-over-HTTP response as NDJSON (docs/wire.md,
 * "Streams"): items as the body brings them, the server's error after the items it sent, and
 * a body that ends without its end line failing, never reading as a whole stream. The body is
 * read only as fast as the caller reads items; `break` cancels it (and the server's producer).
 *
 * @module
 */

import { receivedError, RpcError, rpcError } from "../core/errors.ts";
import { reviveTagged } from "../core/idl/tagged.ts";
import type { RpcStream } from "../core/idl/types.ts";

/** The media type of a streamed result. */
export const NDJSON = "application/x-ndjson";

/** The longest line accepted (a line is one item). */
const MAX_LINE = 16 * 1024 * 1024;

/**
 * The lines of a byte stream, a read's worth at a time (not one promise per line), refusing
 * one longer than `MAX_LINE`.
 */
async function* lineBatches(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  state: { cancelled: boolean },
): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let rest = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (state.cancelled) return;
    if (done) break;
    const parts = (rest + decoder.decode(value, { stream: true })).split("\n");
    rest = parts.pop()!;
    if (rest.length > MAX_LINE) {
      throw rpcError("Unavailable", `a stream line is longer than ${MAX_LINE} characters`);
    }
    if (parts.length) yield parts;
  }
  rest += decoder.decode();
  if (rest !== "") yield [rest];
}

/**
 * The items of an NDJSON body, as a stream whose `cancel()` stops at once (even while a read
 * waits), ending the iteration quietly.
 */
export function ndjsonItems(body: ReadableStream<Uint8Array>, method: string): RpcStream<unknown> {
  const reader = body.getReader();
  const state = { cancelled: false };
  const items = readItems(reader, method, state);
  const cancel = async () => {
    state.cancelled = true;
    await reader.cancel().catch(() => {});
  };
  return {
    [Symbol.asyncIterator]: () => items,
    cancel,
    readable: () =>
      new ReadableStream({
        pull: async (controller) => {
          const next = await items.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel,
      }, { highWaterMark: 0 }),
  };
}

async function* readItems(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  method: string,
  state: { cancelled: boolean },
): AsyncGenerator<unknown> {
  let count = 0;
  let over = false;
  try {
    for await (const batch of lineBatches(reader, state)) {
      for (const value of batch) {
        if (state.cancelled) return;
        if (value.trim() === "") continue;
        const message = JSON.parse(value) as {
          seq?: unknown;
          item?: unknown;
          end?: unknown;
          count?: unknown;
          error?: unknown;
        };
        if ("item" in message) {
          if (message.seq !== count) {
            throw rpcError(
              "Unavailable",
              `${method}: item ${message.seq} came where ${count} was due`,
            );
          }
          count++;
          yield reviveTagged(message.item);
        } else if (message.end === true) {
          over = true;
          if (message.count !== count) {
            throw rpcError(
              "Unavailable",
              `${method}: the stream ended after ${count} of ${message.count} items`,
            );
          }
          return;
        } else if (typeof message.error === "object" && message.error !== null) {
          over = true;
          throw RpcError.fromShape(
            receivedError(message.error, { code: -32603, message: "unknown error" }),
          );
        }
      }
    }
    if (state.cancelled) return;
    over = true;
    throw rpcError("Unavailable", `${method}: the stream was cut after ${count} items`);
  } finally {
    if (!over) await reader.cancel().catch(() => {});
  }
}
