/**
 * Cutting a msgpack-rpc byte stream into messages: partial and coalesced reads, size
 * limits enforced from headers alone, and recovery (or a fatal error) after bad frames.
 *
 * @module
 */

import { type Header, INCOMPLETE, INVALID, readHeader } from "./header.ts";
import {
  decodeMessage,
  MalformedMessageError,
  type Message,
  requestId,
  toMessage,
} from "./messages.ts";
import { plain, unpackr } from "./packer.ts";
import { suspectAt } from "./strict.ts";

const EMPTY_BYTES = new Uint8Array(0);

/** Default per-message size limit: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Runs of complete messages up to this size are decoded in one pass; longer ones frame by
 * frame, where the maps and arrays of each message are counted before it is decoded.
 */
const ONE_PASS_BYTES = 64 * 1024;
/** Past the first 64 Ki maps and arrays, a message may hold one more per this many bytes. */
export const BYTES_PER_CONTAINER = 8;
/** The most maps and arrays one message may hold, whatever its size. */
export const MAX_CONTAINERS = 1024 * 1024;

/**
 * How many maps and arrays a message of `bytes` bytes may hold. Each costs tens of bytes
 * once decoded (an empty map is one byte on the wire): a message of nothing else would
 * take dozens of times its size in memory. The first 64 Ki are free, as many as a one-pass
 * run has bytes, so no message decoded in one pass can exceed its budget.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { containerBudget } from "./framing.ts";
 *
 * assert.equal(containerBudget(800), 65536 + 100);
 * assert.equal(containerBudget(1024 * 1024), 65536 + 131072); // one per 8 bytes
 * assert.equal(containerBudget(16 * 1024 * 1024), 1024 * 1024); // never more
 * ```
 */
export function containerBudget(bytes: number): number {
  return Math.min(MAX_CONTAINERS, ONE_PASS_BYTES + Math.floor(bytes / BYTES_PER_CONTAINER));
}

/** What {@linkcode MessageDecoder.next} yields: a message, or a bad frame (skipped). */
export type Decoded =
  | { ok: true; message: Message }
  | { ok: false; error: MalformedMessageError };

/**
 * Cuts a msgpack byte stream into messages: `push` chunks as they arrive (partial or
 * coalesced), then drain `next()` until it returns undefined. A frame larger than the limit
 * is refused from its header alone (a 100 MB length claim costs nothing); after such an
 * error, or an invalid byte, framing is lost and the error is `fatal`. A message holding
 * more maps and arrays than {@linkcode containerBudget} allows is refused before it is
 * decoded (an error, not fatal: the next message follows it).
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
  #scanContainers = 0;
  readonly #header: Header = { head: 0, body: 0, items: 0 };
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
    // The scan state belongs to the frame at #start (a stale one would cut at wrong bytes).
    this.#rescan();
    let run = this.#buf.subarray(this.#start, this.#end);
    if (run.byteLength > ONE_PASS_BYTES) return;
    // msgpackr reads record definitions whatever its options, and renames `__proto__`: the
    // messages before such bytes are decoded here, the one that holds them by `next`.
    const suspect = suspectAt(run);
    if (suspect === 0) return;
    if (suspect > 0) run = run.subarray(0, suspect);
    this.#lastEnd = 0;
    this.#readyRun = run;
    try {
      unpackr.unpackMultiple(run, this.#collect);
    } catch {
      // #lastEnd is where the incomplete or bad frame starts
    }
    this.#start += this.#lastEnd;
    this.#rescan();
  }

  #rescan(): void {
    this.#scanPos = this.#start;
    this.#scanCount = 1;
    this.#scanContainers = 0;
  }

  #owned = false;
  /**
   * Messages decoded by the one-pass path, not yet returned, the run they came from and
   * where each ends in it; and where that pass stopped.
   */
  #ready: unknown[] = [];
  #readyEnds: number[] = [];
  #readyRun: Uint8Array = EMPTY_BYTES;
  #readyAt = 0;
  #lastEnd = 0;
  #collect = (value: unknown, start?: number, end?: number): boolean => {
    // Oversized frames and anything but a message array: the careful path says what is wrong.
    if (!Array.isArray(value) || end! - start! > this.#max) return false;
    this.#ready.push(value);
    this.#readyEnds.push(end!);
    this.#lastEnd = end!;
    return true;
  };
  /** Where the message `next()` returned last lies (see {@linkcode MessageDecoder.frame}). */
  #frameOf: Uint8Array = EMPTY_BYTES;
  #frameStart = 0;
  #frameEnd = 0;

  /**
   * The bytes of the message `next()` returned last, as they came (a str that is not valid
   * UTF-8 is decoded with U+FFFD; these still hold its bytes). A view of the pushed bytes:
   * valid until the next `push`.
   */
  get frame(): Uint8Array {
    return this.#frameOf.subarray(this.#frameStart, this.#frameEnd);
  }

  /** The next complete message or bad frame, or undefined when more bytes are needed. */
  next(): Decoded | undefined {
    if (this.#readyAt < this.#ready.length) {
      const at = this.#readyAt++;
      const value = this.#ready[at];
      this.#frameOf = this.#readyRun;
      this.#frameStart = at === 0 ? 0 : this.#readyEnds[at - 1];
      this.#frameEnd = this.#readyEnds[at];
      if (this.#readyAt === this.#ready.length) {
        this.#ready.length = 0;
        this.#readyEnds.length = 0;
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
    const containers = this.#scanContainers;
    this.#frameOf = frame;
    this.#frameStart = 0;
    this.#frameEnd = length;
    this.#start += length;
    this.#rescan();
    if (this.#start === this.#end) {
      // Drained: drop a borrowed chunk so the caller may reuse it.
      if (!this.#owned) this.#buf = EMPTY_BYTES;
      this.#start = this.#end = this.#scanPos = 0;
    } else {
      // The frame that straddled two reads is whole: the rest goes back to the one pass.
      this.#decodeRun();
    }
    const budget = containerBudget(length);
    if (containers > budget) {
      const error = new MalformedMessageError(
        `a message of ${length} bytes holds ${containers} maps and arrays (limit ${budget})`,
        { msgid: requestId(frame, 0) },
      );
      return { ok: false, error };
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
    let containers = this.#scanContainers;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const header = this.#header;
    while (count > 0) {
      if (pos >= end) break;
      const read = readHeader(buf, view, pos, end, header);
      if (read === INCOMPLETE) break;
      if (read === INVALID) {
        throw new MalformedMessageError(
          `not msgpack: invalid byte 0x${buf[pos].toString(16)} at offset ${pos - start}`,
          { fatal: true, msgid: this.#peekMsgid() },
        );
      }
      const { head, body, items } = header;
      // Every item needs at least one byte, so a count claim is also a size claim.
      if (pos + head + body + items > limit) {
        throw new MalformedMessageError(
          `message exceeds the limit of ${this.#max} bytes`,
          { fatal: true, msgid: this.#peekMsgid() },
        );
      }
      if (pos + head + body > end) break;
      const b = buf[pos];
      if ((b & 0xe0) === 0x80 || (b >= 0xdc && b <= 0xdf)) containers++;
      pos += head + body;
      count += items - 1;
    }
    this.#scanPos = pos;
    this.#scanCount = count;
    this.#scanContainers = containers;
    return count === 0 ? pos - start : -1;
  }

  /** The msgid of a request whose head has arrived. */
  #peekMsgid(): number | undefined {
    return requestId(this.#buf.subarray(0, this.#end), this.#start);
  }
}
