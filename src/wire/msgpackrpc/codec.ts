/**
 * msgpack-rpc (https://github.com/msgpack-rpc/msgpack-rpc/blob/master/spec.md): the three
 * message kinds as bytes, and a streaming decoder that cuts a byte stream into messages.
 * Pure: no sockets, no `Deno.*`.
 *
 * - request `[0, msgid, method, params]` (Switchboard may add a 5th element, an options map
 *   `{ timeout }` carrying the caller's remaining time budget in ms; plain peers never see it
 *   unless they said hello)
 * - response `[1, msgid, error, result]` (errors travel as `{ code, name, message, data? }`)
 * - notification `[2, method, params]`
 *
 * Values: msgpack bin ⇄ `Uint8Array`, timestamp ext ⇄ `Date`, maps ⇄ plain objects
 * (a JS `Map` encodes as a msgpack map too), 64-bit integers ⇄ number when safe, else bigint,
 * classes registered with `registerType` ⇄ their own msgpack extension types, and any other
 * extension type ⇄ an opaque `MsgpackExtension` (Neovim's Buffer/Window/Tabpage handles).
 *
 * @module
 */

import { addExtension, Packr, REUSE_BUFFER_MODE, Unpackr } from "msgpackr";
import { installMsgpackExtensions } from "../../core/idl/translators.ts";
import { installOpaqueExtensions } from "./extension.ts";
import { mayHoldRecords, recordDefinitionIn } from "./strict.ts";
import type { Outcome } from "../../core/context.ts";
import { type ErrorShape, nameOfCode } from "../../core/errors.ts";
import { Float64, methodName, plainError, withFloatResult } from "./plain_peer.ts";

export { MsgpackExtension } from "./extension.ts";

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
  /** Whether the stream can no longer be trusted (framing lost: close the connection). */
  readonly fatal: boolean;

  /** Creates the error. */
  constructor(message: string, options: { msgid?: number; fatal?: boolean } = {}) {
    super(message);
    if (options.msgid !== undefined) this.msgid = options.msgid;
    this.fatal = options.fatal ?? false;
  }
}

const packr = new Packr({
  useRecords: false,
  encodeUndefinedAsNil: true,
  // Like JSON: a member whose value is undefined is absent, not nil (an absent optional
  // field would otherwise arrive as null and fail its check). Missing from the typings.
  ...{ skipValues: [undefined] },
  // Plain msgpack for third-party peers: no structures, no bundled strings.
  moreTypes: false,
});
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  // Decoded bytes must not alias the (reused) receive buffer.
  copyBuffers: true,
  // "auto" (number when safe, else bigint) is supported at runtime but not in the typings.
  int64AsType: "auto" as "bigint",
  // Shared references (ext 0x69/0x70) are not msgpack: a few hundred bytes of them decode
  // to a graph with billions of paths. Missing from the typings.
  ...{ structuredClone: false },
});

// Extensions msgpack does not define stay opaque (and msgpackr's own are never decoded);
// first, so that the types registered below take precedence.
installOpaqueExtensions();

// Types registered with `registerType` travel as msgpack extension types.
installMsgpackExtensions({
  addExtension,
  pack: (value) => packr.pack(value),
  unpack: (bytes) => unpackr.unpack(bytes),
});

/** Encodes any value as msgpack (the library Switchboard uses; see scripts/bench). */
export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes one msgpack value; throws on malformed or incomplete input. */
export function unpack(bytes: Uint8Array): unknown {
  return unpackr.unpack(plain(bytes));
}

/** A plain Uint8Array view (decoded bin values are slices of the input: no Node Buffers). */
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** msgpackr's shared output buffer, with where the last message packed into it lies. */
type Packed = Uint8Array & { start: number; end: number };

/**
 * The first try at every message: msgpackr's default object writer, about a third faster
 * than the one `skipValues` selects, but it cannot leave undefined members out. It marks
 * undefined as a fixext1 (`0xd4 …`) instead, and any message holding a 0xd4 byte (that
 * marker, or an innocent byte that looks like it) is packed again by `packr`.
 */
const fastPackr = new Packr({ useRecords: false, moreTypes: false });
const UNDEFINED_MARK = 0xd4;

/** Packs into msgpackr's shared output buffer; later packs write after it, never over it. */
function packShared(value: unknown): Packed {
  let fast: Packed | undefined;
  try {
    fast = fastPackr.pack(value, REUSE_BUFFER_MODE) as unknown as Packed;
  } catch {
    // e.g. a map too large for the fast writer's 16-bit size: the careful packer decides
  }
  if (fast && viewOf(fast).indexOf(UNDEFINED_MARK) < 0) return fast;
  return packr.pack(value, REUSE_BUFFER_MODE) as unknown as Packed;
}

/**
 * A plain view of the last message packed: cheaper than the Node `Buffer` that `pack`
 * returns, which costs a subclass construction per message.
 */
function viewOf(packed: Packed): Uint8Array {
  return new Uint8Array(packed.buffer, packed.byteOffset + packed.start, packed.end - packed.start);
}

function packMessage(value: unknown): Uint8Array {
  return viewOf(packShared(value));
}

/** Where an encoder can copy a message's bytes straight from the packer's buffer. */
export interface ByteSink {
  /** Takes `bytes[start, end)`; the bytes may be reused once this returns. */
  push(bytes: Uint8Array, start: number, end: number): void;
}

/** Encodes a request. `timeout` (ms) adds the Switchboard options element. */
export function encodeRequest(
  msgid: number,
  method: string,
  params: unknown,
  timeout?: number,
): Uint8Array {
  const p = params === undefined ? [] : params;
  return packMessage(
    timeout === undefined ? [0, msgid, method, p] : [0, msgid, method, p, { timeout }],
  );
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
  if (outcome.ok && outcome.value instanceof Float64) {
    return withFloatResult(packMessage([1, msgid, null, 0]), outcome.value.value);
  }
  return packMessage(responseTo(msgid, outcome, plain));
}

/** The response message carrying an outcome. */
function responseTo(msgid: number, outcome: Outcome, plain: boolean): unknown[] {
  return outcome.ok
    ? [1, msgid, null, outcome.value === undefined ? null : outcome.value]
    : [1, msgid, plain ? plainError(outcome.error) : errorObject(outcome.error), null];
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
  if (outcome.ok && outcome.value instanceof Float64) {
    const bytes = encodeOutcome(msgid, outcome);
    sink.push(bytes, 0, bytes.byteLength);
    return;
  }
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
    const e = error as Record<string, unknown>;
    const code = typeof e.code === "number" ? e.code : -32000;
    const shape: ErrorShape = {
      code,
      name: typeof e.name === "string" ? e.name : nameOfCode(code) ?? "RpcError",
      message: typeof e.message === "string" ? e.message : JSON.stringify(error),
    };
    if (e.data !== undefined) shape.data = e.data;
    return shape;
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
      const options = value[4] as { timeout?: unknown } | undefined;
      if (
        typeof options === "object" && options !== null && typeof options.timeout === "number" &&
        options.timeout > 0
      ) {
        message.timeout = options.timeout;
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
    throw new MalformedMessageError(`not msgpack: ${foreign}`, { msgid: requestId(bytes, 0) });
  }
  try {
    value = unpackr.unpack(plain(bytes));
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

const EMPTY_BYTES = new Uint8Array(0);

/** Default per-message size limit: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** What {@linkcode MessageDecoder.next} yields: a message, or a bad frame (skipped). */
export type Decoded =
  | { ok: true; message: Message }
  | { ok: false; error: MalformedMessageError };

/**
 * Cuts a msgpack byte stream into messages: `push` chunks as they arrive (partial or
 * coalesced), then drain `next()` until it returns undefined. A frame larger than the limit
 * is refused from its header alone (a 100 MB length claim costs nothing); after such an
 * error, or an invalid byte, framing is lost and the error is `fatal`.
 *
 * The complete messages of a chunk are decoded in one pass, straight from the chunk; only a
 * partial, oversized or bad frame goes through the header scanner, and the buffer grows only
 * while a frame is incomplete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeNotification, MessageDecoder } from "./codec.ts";
 *
 * const bytes = encodeNotification("log", ["hello"]);
 * const decoder = new MessageDecoder();
 * decoder.push(bytes.subarray(0, 5)); // a partial read
 * assert.equal(decoder.next(), undefined);
 * decoder.push(bytes.subarray(5));
 * assert.deepEqual(decoder.next(), {
 *   ok: true,
 *   message: { type: 2, method: "log", params: ["hello"] },
 * });
 * ```
 */
export class MessageDecoder {
  readonly #max: number;
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;
  /** Scan state of the frame at #start: where the scan stopped, items still to read. */
  #scanPos = 0;
  #scanCount = 1;
  #dead?: MalformedMessageError;

  /** `maxMessageBytes`: the largest accepted message (default 16 MiB). */
  constructor(maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#max = maxMessageBytes;
  }

  /** Bytes received and not yet returned as messages. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Adds received bytes. The caller may reuse `chunk` once `next()` returned undefined. */
  push(chunk: Uint8Array): void {
    if (this.#dead || chunk.byteLength === 0) return;
    if (this.#start === this.#end) {
      // Nothing pending: decode the chunk's complete messages straight from the chunk.
      const bytes = plain(chunk);
      this.#buf = bytes;
      this.#owned = false;
      this.#start = 0;
      this.#end = bytes.byteLength;
      this.#decodeRun();
      return;
    }
    if (!this.#owned || this.#buf.byteLength - this.#end < chunk.byteLength) {
      this.#compact(this.#end - this.#start + chunk.byteLength);
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.byteLength;
  }

  /** Moves the pending bytes to the front of an owned buffer with room for `size` bytes. */
  #compact(size: number): void {
    const pending = this.#end - this.#start;
    if (this.#owned && this.#buf.byteLength >= size) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const grown = new Uint8Array(Math.max(4096, size * 2));
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
      this.#owned = true;
    }
    this.#scanPos -= this.#start;
    this.#start = 0;
    this.#end = pending;
  }

  /**
   * Decodes the complete messages from #start on in one pass (msgpackr's own loop, far
   * cheaper than scanning each frame here first); stops before a partial or suspicious
   * frame, which the careful path in `next` then takes.
   */
  #decodeRun(): void {
    this.#lastEnd = 0;
    const run = this.#buf.subarray(this.#start, this.#end);
    // msgpackr reads its record definitions whatever its options: such a run goes frame by
    // frame through the careful path, which refuses the frame that holds one.
    if (mayHoldRecords(run) && recordDefinitionIn(run) !== undefined) return;
    try {
      unpackr.unpackMultiple(run, this.#collect);
    } catch {
      // #lastEnd is where the incomplete or bad frame starts
    }
    this.#start += this.#lastEnd;
    this.#scanPos = this.#start;
    this.#scanCount = 1;
  }

  #owned = false;
  /** Messages decoded by the one-pass path, not yet returned; and where that pass stopped. */
  #ready: unknown[] = [];
  #readyAt = 0;
  #lastEnd = 0;
  #collect = (value: unknown, start?: number, end?: number): boolean => {
    // Oversized frames and anything but a message array: the careful path says what is wrong.
    if (!Array.isArray(value) || end! - start! > this.#max) return false;
    this.#ready.push(value);
    this.#lastEnd = end!;
    return true;
  };

  /** The next complete message or bad frame, or undefined when more bytes are needed. */
  next(): Decoded | undefined {
    if (this.#readyAt < this.#ready.length) {
      const value = this.#ready[this.#readyAt++];
      if (this.#readyAt === this.#ready.length) {
        this.#ready.length = 0;
        this.#readyAt = 0;
      }
      try {
        return { ok: true, message: toMessage(value) };
      } catch (error) {
        return { ok: false, error: error as MalformedMessageError };
      }
    }
    if (this.#dead) return undefined;
    if (this.#start === this.#end) {
      if (!this.#owned) this.#buf = EMPTY_BYTES; // let the caller reuse its chunk
      return undefined;
    }
    let length: number;
    try {
      length = this.#scan();
    } catch (error) {
      this.#dead = error as MalformedMessageError;
      return { ok: false, error: this.#dead };
    }
    if (length < 0) {
      // Keep the partial frame in our own buffer: the caller may reuse its chunk now.
      if (!this.#owned) this.#compact(this.#end - this.#start);
      return undefined;
    }
    const frame = this.#buf.subarray(this.#start, this.#start + length);
    this.#start += length;
    this.#scanPos = this.#start;
    this.#scanCount = 1;
    if (this.#start === this.#end) {
      // Drained: drop a borrowed chunk so the caller may reuse it.
      if (!this.#owned) this.#buf = EMPTY_BYTES;
      this.#start = this.#end = this.#scanPos = 0;
    } else {
      // The frame that straddled two reads is whole: the rest goes back to the one pass.
      this.#decodeRun();
    }
    try {
      return { ok: true, message: decodeMessage(frame) };
    } catch (error) {
      return { ok: false, error: error as MalformedMessageError };
    }
  }

  /**
   * Finds the length of the msgpack object at #start, resuming where the last scan ran out
   * of bytes; -1 if incomplete. Throws (fatal) on an invalid byte or an oversized claim.
   */
  #scan(): number {
    const buf = this.#buf, start = this.#start, end = this.#end, limit = start + this.#max;
    let pos = this.#scanPos < start ? start : this.#scanPos;
    let count = this.#scanCount;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (count > 0) {
      if (pos >= end) break;
      const b = buf[pos];
      let head = 1, body = 0, items = 0;
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
        // fixint, nil, bool
      } else if (b <= 0x8f) items = (b & 0x0f) * 2;
      else if (b <= 0x9f) items = b & 0x0f;
      else if (b <= 0xbf) body = b & 0x1f;
      else {
        switch (b) {
          case 0xc4: // bin8
          case 0xd9: // str8
            head = 2;
            if (pos + 2 > end) break;
            body = buf[pos + 1];
            break;
          case 0xc5:
          case 0xda:
            head = 3;
            if (pos + 3 > end) break;
            body = view.getUint16(pos + 1);
            break;
          case 0xc6:
          case 0xdb:
            head = 5;
            if (pos + 5 > end) break;
            body = view.getUint32(pos + 1);
            break;
          case 0xc7: // ext8
            head = 3;
            if (pos + 2 > end) break;
            body = buf[pos + 1];
            break;
          case 0xc8:
            head = 4;
            if (pos + 3 > end) break;
            body = view.getUint16(pos + 1);
            break;
          case 0xc9:
            head = 6;
            if (pos + 5 > end) break;
            body = view.getUint32(pos + 1);
            break;
          case 0xca:
          case 0xce:
          case 0xd2:
            head = 5;
            break;
          case 0xcb:
          case 0xcf:
          case 0xd3:
            head = 9;
            break;
          case 0xcc:
          case 0xd0:
            head = 2;
            break;
          case 0xcd:
          case 0xd1:
            head = 3;
            break;
          case 0xd4:
            head = 3;
            break;
          case 0xd5:
            head = 4;
            break;
          case 0xd6:
            head = 6;
            break;
          case 0xd7:
            head = 10;
            break;
          case 0xd8:
            head = 18;
            break;
          case 0xdc:
            head = 3;
            if (pos + 3 > end) break;
            items = view.getUint16(pos + 1);
            break;
          case 0xdd:
            head = 5;
            if (pos + 5 > end) break;
            items = view.getUint32(pos + 1);
            break;
          case 0xde:
            head = 3;
            if (pos + 3 > end) break;
            items = view.getUint16(pos + 1) * 2;
            break;
          case 0xdf:
            head = 5;
            if (pos + 5 > end) break;
            items = view.getUint32(pos + 1) * 2;
            break;
          default: // 0xc1: never used
            throw new MalformedMessageError(
              `not msgpack: invalid byte 0x${b.toString(16)} at offset ${pos - start}`,
              { fatal: true, msgid: this.#peekMsgid() },
            );
        }
      }
      // Every item needs at least one byte, so a count claim is also a size claim.
      if (pos + head + body + items > limit) {
        throw new MalformedMessageError(
          `message exceeds the limit of ${this.#max} bytes`,
          { fatal: true, msgid: this.#peekMsgid() },
        );
      }
      if (pos + head + body > end) break;
      pos += head + body;
      count += items - 1;
    }
    this.#scanPos = pos;
    this.#scanCount = count;
    return count === 0 ? pos - start : -1;
  }

  /** The msgid of a request whose head has arrived. */
  #peekMsgid(): number | undefined {
    return requestId(this.#buf.subarray(0, this.#end), this.#start);
  }
}

/** The msgid of a request whose head is at `start`: `[0, msgid, …` (fixarray or array16/32). */
function requestId(buf: Uint8Array, start: number): number | undefined {
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
