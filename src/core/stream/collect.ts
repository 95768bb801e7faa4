/**
 * A stream as one array, for peers that cannot take it item by item (plain msgpack-rpc
 * peers, XML-RPC, JSON-RPC over HTTP without a streaming `Accept`): all of it up to a
 * limit, or an error naming the limit, never a silently cut list.
 *
 * @module
 */

import { errorShape, RpcError } from "../errors.ts";
import type { OpenStream } from "./open_stream.ts";
import { StreamProducer } from "./producer.ts";

/** Default cap on the items of a stream sent as one array. */
export const DEFAULT_MAX_STREAM_ITEMS = 10_000;

/** Reads the whole stream; rejects with the stream's error, or `InvalidRequest` past `limit`. */
export function collectStream(
  open: OpenStream,
  limit = DEFAULT_MAX_STREAM_ITEMS,
  signal?: AbortSignal,
): Promise<unknown[]> {
  const items: unknown[] = [];
  const { promise, resolve, reject } = Promise.withResolvers<unknown[]>();
  const producer: StreamProducer = new StreamProducer(open, {
    item: (_, item) => {
      if (items.length === limit) {
        const shape = errorShape(
          "InvalidRequest",
          `the streamed result of ${open.method} has more than ${limit} items (limit ${limit}); read it as a stream`,
        );
        reject(new RpcError(shape));
        producer.cancel(new RpcError(shape));
        return;
      }
      items.push(item);
    },
    end: () => resolve(items),
    error: (shape) => reject(new RpcError(shape)),
  }, { idleMs: 0 });
  // One item beyond the limit tells a stream that is too long from one that just fits.
  producer.grant(limit + 1);
  producer.start();
  if (signal) {
    const onAbort = () => {
      const reason = signal.reason instanceof RpcError
        ? signal.reason
        : new RpcError(errorShape("Cancelled", `${open.method} was cancelled`));
      reject(reason);
      producer.cancel(reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    promise.finally(() => signal.removeEventListener("abort", onAbort)).catch(() => {});
  }
  return promise;
}
