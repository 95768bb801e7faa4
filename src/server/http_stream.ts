/**
 * JSON-RPC over HTTP for streamed results (docs/wire.md, "Streams"): a single call whose
 * request asks with `Accept: application/x-ndjson` or `text/event-stream` is answered item
 * by item as NDJSON lines or server-sent events. The body is pulled: the producer takes an
 * item only when the client has read the ones before (the connection's own flow control),
 * and a client that goes away cancels it.
 *
 * @module
 */

import type { Call, Outcome } from "../core/context.ts";
import { type ErrorShape, errorShape, RpcError, rpcError } from "../core/errors.ts";
import { taggingReplacer } from "../core/idl/tagged.ts";
import { OpenStream } from "../core/stream/open_stream.ts";
import { StreamProducer } from "../core/stream/producer.ts";
import type { OpenBodies } from "./http_open_bodies.ts";
import {
  type CallBase,
  encodeResponse,
  errorObject,
  type JsonRpcRequest,
} from "../wire/jsonrpc/codec.ts";

/** How a request asks for a streamed result, from its `Accept`. */
export type StreamFormat = "ndjson" | "sse";

/** The streaming format a request accepts, or undefined (the whole array, as usual). */
export function streamFormat(request: Request): StreamFormat | undefined {
  const accept = request.headers.get("accept");
  if (accept === null) return undefined;
  if (accept.includes("application/x-ndjson")) return "ndjson";
  if (accept.includes("text/event-stream")) return "sse";
  return undefined;
}

/** How one format writes the messages of a stream. */
export interface Framing {
  contentType: string;
  item(seq: number, item: string): string;
  end(count: number): string;
  error(error: string): string;
}

/** The framing of each format. */
export const FRAMINGS: Record<StreamFormat, Framing> = {
  ndjson: {
    contentType: "application/x-ndjson",
    item: (seq, item) => `{"seq":${seq},"item":${item}}\n`,
    end: (count) => `{"end":true,"count":${count}}\n`,
    error: (error) => `{"error":${error}}\n`,
  },
  // JSON text holds no raw line break, so each value is one `data:` line.
  sse: {
    contentType: "text/event-stream",
    item: (seq, item) => `id: ${seq}\ndata: ${item}\n\n`,
    end: (count) => `event: end\ndata: {"count":${count}}\n\n`,
    error: (error) => `event: error\ndata: ${error}\n\n`,
  },
};

const encoder = new TextEncoder();

/**
 * Answers a single call as a stream; undefined for any other request (a batch, a
 * notification, a parse error), which the caller answers as usual. A method whose result is
 * not a stream, and an error before the first item, get the usual JSON-RPC response.
 */
export function answerStreamed(
  format: StreamFormat,
  request: JsonRpcRequest,
  base: CallBase,
  dispatch: (call: Call) => Outcome | Promise<Outcome>,
  bodies: OpenBodies,
): Promise<Response> | undefined {
  if (request.kind !== "single" || request.member.kind !== "call") return undefined;
  const { id, method, params } = request.member;
  const call: Call = { ...base, method, params, protocol: "jsonrpc", id, stream: true };
  return Promise.resolve(dispatch(call)).then((outcome) => {
    if (!(outcome.ok && outcome.value instanceof OpenStream)) {
      return new Response(encodeResponse(id, outcome), {
        headers: { "content-type": "application/json" },
      });
    }
    return streamResponse(FRAMINGS[format], outcome.value, bodies);
  });
}

/**
 * A streamed result as a response body in `framing`, held in `bodies` until it is over; a
 * shutdown ends it with an `Unavailable` error after the items sent.
 */
export function streamResponse(
  framing: Framing,
  open: OpenStream,
  bodies: OpenBodies,
  prelude?: string,
): Response {
  let body!: ReadableStreamDefaultController<Uint8Array>;
  // Resolves the pull waiting for the producer's next message.
  let delivered: (() => void) | undefined;
  let over = () => {};
  const write = (text: string, last: boolean) => {
    body.enqueue(encoder.encode(text));
    if (last) {
      body.close();
      over();
    }
    delivered?.();
    delivered = undefined;
  };
  const errorText = (error: ErrorShape) => JSON.stringify(errorObject(error), taggingReplacer);
  const producer = new StreamProducer(open, {
    item: (seq, item) => write(framing.item(seq, JSON.stringify(item, taggingReplacer)), false),
    end: (count) => write(framing.end(count), true),
    error: (error) => write(framing.error(errorText(error)), true),
  });
  const stream = new ReadableStream<Uint8Array>({
    start: (controller) => {
      body = controller;
      if (prelude) controller.enqueue(encoder.encode(prelude));
      producer.start();
    },
    // One item per read: the producer runs only as far as the client has read.
    pull: () => {
      if (producer.over) return;
      const next = new Promise<void>((resolve) => delivered = resolve);
      producer.grant(1);
      return next;
    },
    cancel: () => {
      producer.cancel(rpcError("Cancelled", `${open.method}: the HTTP client went away`));
      over();
    },
  }, { highWaterMark: 1 });
  const response = new Response(stream, {
    headers: {
      "content-type": framing.contentType,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    },
  });
  over = bodies.hold(response, () => {
    if (producer.over) return;
    const shape = errorShape("Unavailable", `${open.method}: the server is shutting down`);
    producer.cancel(new RpcError(shape));
    write(framing.error(errorText(shape)), true);
  });
  return response;
}
