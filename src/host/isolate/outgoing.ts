/**
 * A component's own calls (its `ctx.client`) as the host makes them: stream params the
 * component sent as handles are read from it item by item and passed on as streams, and a
 * streamed result it asked for is handed back as a stream of the host's (the component
 * reads it with its own credit; the host only relays).
 *
 * @module
 */

import type { ClientLike, Outcome } from "../../core/context.ts";
import { asRpcError } from "../../core/errors.ts";
import type { CallOptions, InterfaceDef } from "../../core/idl/interface.ts";
import { t, type Type } from "../../core/idl/types.ts";
import { OpenStream } from "../../core/stream/open_stream.ts";
import { isStreamSource } from "../../core/stream/source.ts";
import type { StreamTable } from "../../core/stream/table.ts";
import type { FromWorker, StreamFrame } from "./protocol.ts";

type OutgoingMessage = Extract<FromWorker, { type: "call" }>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Makes the component's call `message` through `client`. */
export function outgoingCall(
  client: ClientLike,
  message: OutgoingMessage,
  streams: StreamTable<StreamFrame> | undefined,
  options: CallOptions,
): Promise<unknown> {
  const names = message.streams;
  const dot = message.method.lastIndexOf(".");
  const iface = message.method.slice(0, dot), method = message.method.slice(dot + 1);
  if (!names || !streams || !IDENTIFIER.test(iface) || !IDENTIFIER.test(method)) {
    return client.call(message.method, message.params, options);
  }
  const params = streams.paramsIn(message.method, message.params, names);
  // Only a typed proxy sends stream params as streams: one of the params the component named.
  const fields: Record<string, Type> = {};
  for (const name of names) fields[name] = t.stream(t.any);
  const def: InterfaceDef = {
    name: iface,
    methods: {
      [method]: {
        params: fields,
        result: message.stream ? t.stream(t.any) : t.any,
        public: false,
        errors: [],
      },
    },
  };
  const proxy = client.proxy(def) as Record<string, (p: unknown, o: CallOptions) => unknown>;
  return Promise.resolve(proxy[method](params, options));
}

/** The answer to the component's call: a stream it asked for goes as a handle. */
export function answerOf(
  message: OutgoingMessage,
  value: unknown,
  streams: StreamTable<StreamFrame> | undefined,
): Outcome {
  if (!message.stream || !streams || !isStreamSource(value) || Array.isArray(value)) {
    return { ok: true, value };
  }
  return streams.produce(
    new OpenStream(
      message.method,
      value,
      (item) => item,
      new AbortController(),
      (error) => asRpcError(error).toShape(),
    ),
  );
}
