/**
 * The three msgpack-rpc messages (https://github.com/msgpack-rpc/msgpack-rpc/blob/master/spec.md)
 * as values and as bytes: request `[0, msgid, method, params]` (Switchboard may add a 5th
 * element, an options map `{ timeout, traceparent, tracestate }`, for peers that said hello),
 * response
 * `[1, msgid, error, result]`, notification `[2, method, params]`; and errors both ways.
 *
 * @module
 */

import type { Outcome, TraceCarrier } from "../../core/context.ts";
import { traceCarrier } from "../../core/client/tracing_hook.ts";
import { type ErrorShape, nameOfCode, receivedError } from "../../core/errors.ts";
import { methodName, plainError } from "./plain_peer.ts";
import { floatResult } from "./float64.ts";
import { type ByteSink, packMessage, packShared, plain, unpackr } from "./packer.ts";
import { holdsProtoKey, mayHoldRecords, recordDefinitionIn } from "./strict.ts";
import { unpackOwnKeys } from "./own_keys.ts";
import { pushSmallResponse } from "./small_response.ts";

/** Message type tags of the spec. */
export const MessageType = { Request: 0, Response: 1, Notification: 2 } as const;

/** A request: the peer expects a response with the same `msgid`. */
export interface RequestMessage {
  /** Always 0. */
  type: 0;
  /** The sender's id for this call (uint32 in the spec). */
  msgid: number;
  /** The method name. */
  method: string;
  /** Params by position (array, as the spec says) or by name (map, a Switchboard extra). */
  params: unknown;
  /** Switchboard extra: the caller's remaining time budget in ms, when it sent one. */
  timeout?: number;
  /** Switchboard extra: the caller's W3C trace context, when it sent one. */
  trace?: TraceCarrier;
  /** Switchboard extra: the caller reads a streamed result item by item (`stream: true`). */
  stream?: boolean;
}

/** A response to a request. */
export interface ResponseMessage {
  /** Always 1. */
  type: 1;
  /** The msgid of the request it answers. */
  msgid: number;
  /** Nil on success; otherwise an error object (any msgpack value per the spec). */
  error: unknown;
  /** The result (nil when there is an error). */
  result: unknown;
}

/** A notification: no response. */
export interface NotificationMessage {
  /** Always 2. */
  type: 2;
  /** The method (or event) name. */
  method: string;
  /** Params. */
  params: unknown;
}

/** Any msgpack-rpc message. */
export type Message = RequestMessage | ResponseMessage | NotificationMessage;

/** A frame that is not a valid message; `msgid` is set when the frame revealed one. */
export class MalformedMessageError extends Error {
  override name = "MalformedMessageError";
  /** The request's msgid, when it could be read (so the peer can get an error response). */
  readonly msgid?: number;
  /**
   * Whether the stream can no longer be trusted (framing lost, or a record definition that
   * cannot be answered): close the connection.
   */
  readonly fatal: boolean;

  /** Creates the error. */
  constructor(message: string, options: { msgid?: number; fatal?: boolean } = {}) {
    super(message);
    if (options.msgid !== undefined) this.msgid = options.msgid;
    this.fatal = options.fatal ?? false;
  }
}

/**
 * Encodes a request. `timeout` (ms), `trace` and `stream` add the Switchboard options element
 * (send them only to peers that said hello: plain peers expect four elements).
 */
export function encodeRequest(
  msgid: number,
  method: string,
  params: unknown,
  timeout?: number,
  trace?: TraceCarrier,
  stream?: boolean,
): Uint8Array {
  const p = params === undefined ? [] : params;
  if (timeout === undefined && trace === undefined && !stream) {
    return packMessage([0, msgid, method, p]);
  }
  const options: Record<string, unknown> = {};
  if (timeout !== undefined) options.timeout = timeout;
  if (stream) options.stream = true;
  if (trace !== undefined) {
    options.traceparent = trace.traceparent;
    if (trace.tracestate !== undefined) options.tracestate = trace.tracestate;
  }
  return packMessage([0, msgid, method, p, options]);
}

/** Encodes a response from a raw error and result (one of them nil). */
export function encodeResponse(msgid: number, error: unknown, result: unknown): Uint8Array {
  return packMessage([1, msgid, error ?? null, error == null ? result ?? null : null]);
}

/** Encodes a notification. */
export function encodeNotification(method: string, params: unknown): Uint8Array {
  return packMessage([2, method, params === undefined ? [] : params]);
}

/** The error object Switchboard writes: `{ code, name, message, data? }`. */
export function errorObject(error: ErrorShape): Record<string, unknown> {
  const out: Record<string, unknown> = {
    code: error.code,
    name: error.name,
    message: error.message,
  };
  if (error.data !== undefined) out.data = error.data;
  return out;
}

/**
 * Encodes the response carrying a router outcome; `plain` (a peer that did not say
 * `$/hello`) writes an error in Neovim's `[type, message]` form (see `plain_peer.ts`).
 */
export function encodeOutcome(msgid: number, outcome: Outcome, plain = false): Uint8Array {
  return packMessage(responseTo(msgid, outcome, plain));
}

/** The response message carrying an outcome; whole numbers at `t.float` places as floats. */
function responseTo(msgid: number, outcome: Outcome, plain: boolean): unknown[] {
  if (!outcome.ok) {
    return [1, msgid, plain ? plainError(outcome.error) : errorObject(outcome.error), null];
  }
  const value = outcome.value === undefined ? null : outcome.value;
  return [1, msgid, null, outcome.floats ? floatResult(outcome.floats, value) : value];
}

/**
 * Encodes the response carrying a router outcome into `sink`, with no intermediate view.
 * Nothing reaches the sink when the outcome cannot be encoded (the error is thrown).
 */
export function encodeOutcomeTo(
  sink: ByteSink,
  msgid: number,
  outcome: Outcome,
  plain = false,
): void {
  if (outcome.ok && !outcome.floats && pushSmallResponse(sink, msgid, outcome.value)) return;
  const packed = packShared(responseTo(msgid, outcome, plain));
  sink.push(packed, packed.start, packed.end);
}

/**
 * Reads the error of a response as the error model. Accepts Switchboard's map, a bare
 * string (many servers), and `[code, message]` (Neovim's `[type, message]`, type 0 or 1,
 * reads as code -32000).
 */
export function toErrorShape(error: unknown): ErrorShape {
  if (typeof error === "string") return { code: -32000, name: "RpcError", message: error };
  if (Array.isArray(error) && error.length === 2 && typeof error[1] === "string") {
    const code = typeof error[0] === "number" && (error[0] < 0 || error[0] > 1) ? error[0] : -32000;
    return { code, name: nameOfCode(code) ?? "RpcError", message: error[1] };
  }
  if (typeof error === "object" && error !== null && !(error instanceof Uint8Array)) {
    return receivedError(error as Record<string, unknown>, {
      code: -32000,
      message: JSON.stringify(error),
    });
  }
  return { code: -32000, name: "RpcError", message: String(error) };
}

/** The outcome a response carries. */
export function responseOutcome(message: ResponseMessage): Outcome {
  return message.error == null
    ? { ok: true, value: message.result }
    : { ok: false, error: toErrorShape(message.error) };
}

function isMsgid(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value <= 0xffff_ffff;
}

/** Checks a decoded value against the spec; throws {@linkcode MalformedMessageError}. */
export function toMessage(value: unknown): Message {
  if (!Array.isArray(value)) {
    throw new MalformedMessageError(
      `expected a msgpack-rpc message (an array), got ${describe(value)}`,
    );
  }
  switch (value[0]) {
    case 0: {
      const msgid = isMsgid(value[1]) ? value[1] : undefined;
      if (msgid === undefined) {
        throw new MalformedMessageError("request msgid must be an unsigned 32-bit integer");
      }
      if (value.length !== 4 && value.length !== 5) {
        throw new MalformedMessageError(
          `a request has 4 elements [0, msgid, method, params], got ${value.length}`,
          { msgid },
        );
      }
      const method = methodName(value[2]);
      if (method === undefined) {
        throw new MalformedMessageError(
          `request method must be a string, got ${describe(value[2])}`,
          {
            msgid,
          },
        );
      }
      const params = value[3];
      if (typeof params !== "object" || params === null || params instanceof Uint8Array) {
        throw new MalformedMessageError(
          `request params must be an array (or a map), got ${describe(params)}`,
          { msgid },
        );
      }
      const message: RequestMessage = { type: 0, msgid, method, params };
      const options = value[4] as
        | { timeout?: unknown; traceparent?: unknown; tracestate?: unknown; stream?: unknown }
        | undefined;
      if (typeof options === "object" && options !== null) {
        if (typeof options.timeout === "number" && options.timeout > 0) {
          message.timeout = options.timeout;
        }
        if (options.stream === true) message.stream = true;
        // A malformed trace context is dropped, not refused: it only ever helps tracing.
        const trace = options.traceparent === undefined
          ? undefined
          : traceCarrier(options.traceparent, options.tracestate);
        if (trace) message.trace = trace;
      }
      return message;
    }
    case 1:
      if (value.length !== 4 || !isMsgid(value[1])) {
        throw new MalformedMessageError("a response is [1, msgid, error, result]");
      }
      return { type: 1, msgid: value[1], error: value[2], result: value[3] };
    case 2: {
      const method = methodName(value[1]);
      if (value.length !== 3 || method === undefined) {
        throw new MalformedMessageError("a notification is [2, method, params]");
      }
      return { type: 2, method, params: value[2] };
    }
    default:
      throw new MalformedMessageError(`unknown message type ${describe(value[0])}`);
  }
}

/** Decodes one complete message; throws {@linkcode MalformedMessageError}. */
export function decodeMessage(bytes: Uint8Array): Message {
  let value: unknown;
  const foreign = mayHoldRecords(bytes) ? recordDefinitionIn(bytes) : undefined;
  if (foreign !== undefined) {
    // A peer that defines records writes later values through them (as bytes that read as
    // small integers here): refused with an answer, or, with no msgid to answer, fatal.
    const msgid = requestId(bytes, 0);
    throw new MalformedMessageError(`not msgpack: ${foreign}`, {
      msgid,
      fatal: msgid === undefined,
    });
  }
  try {
    const view = plain(bytes);
    value = holdsProtoKey(view) ? unpackOwnKeys(view) : unpackr.unpack(view);
  } catch (error) {
    // Framing is intact (the frame was cut by its header): only this message fails, and a
    // request is answered when its msgid can be read.
    throw new MalformedMessageError(
      `not msgpack: ${error instanceof Error ? error.message : error}`,
      { msgid: requestId(bytes, 0) },
    );
  }
  return toMessage(value);
}

function describe(value: unknown): string {
  if (value === null) return "nil";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "bin";
  const text = typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : String(value);
  return `${typeof value} ${text}`.slice(0, 60);
}

/** The msgid of a request whose head is at `start`: `[0, msgid, …` (fixarray or array16/32). */
export function requestId(buf: Uint8Array, start: number): number | undefined {
  const end = buf.byteLength;
  let pos = start;
  const b = buf[pos];
  if (b === 0x94 || b === 0x95) pos += 1;
  else if (b === 0xdc) pos += 3;
  else if (b === 0xdd) pos += 5;
  else return undefined;
  if (pos + 1 >= end || buf[pos] !== 0) return undefined;
  pos++;
  const t = buf[pos];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (t <= 0x7f) return t;
  if (t === 0xcc && pos + 2 <= end) return buf[pos + 1];
  if (t === 0xcd && pos + 3 <= end) return view.getUint16(pos + 1);
  if (t === 0xce && pos + 5 <= end) return view.getUint32(pos + 1);
  return undefined;
}
