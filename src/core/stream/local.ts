/**
 * A stream within one isolate: a consumer and a producer joined directly, with the same
 * credit window and cancellation as over a wire (no copies of the items).
 *
 * @module
 */

import { RpcError, rpcError } from "../errors.ts";
import { StreamConsumer } from "./consumer.ts";
import type { OpenStream } from "./open_stream.ts";
import { StreamProducer } from "./producer.ts";

/** Joins an open stream to a consumer in the same isolate. */
export function localStream(open: OpenStream, window?: number): StreamConsumer {
  // The producer reads nothing before `start()`, so its sink may name the consumer below.
  const producer = new StreamProducer(open, {
    item: (seq, item) => consumer.item(seq, item),
    end: (count) => consumer.end(count),
    error: (shape) => consumer.fail(RpcError.fromShape(shape)),
  });
  const consumer: StreamConsumer = new StreamConsumer({
    credit: (n) => producer.grant(n),
    cancel: () =>
      producer.cancel(rpcError("Cancelled", `${open.method} was cancelled by the consumer`)),
  }, { window, label: open.method });
  producer.start();
  return consumer;
}
