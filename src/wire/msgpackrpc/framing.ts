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
import { mayHoldRecords, recordDefinitionIn } from "./strict.ts";

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
    this.#lastEnd = 0;
    const run = this.#buf.subarray(this.#start, this.#end);
    this.#readyRun = run;
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
    this.#frameOf = frame;
    this.#frameStart = 0;
    this.#frameEnd = length;
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
