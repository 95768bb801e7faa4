/**
 * The response to a call whose result is nil, a boolean or a 32-bit integer, written byte by
 * byte: the bytes msgpackr would write for `[1, msgid, null, result]` (see packer.ts), without
 * the array, the packer's entry and the check of its output that every other message pays.
 *
 * @module
 */

import type { ByteSink } from "./packer.ts";

/** Room for the longest: fixarray, 1, uint 32 msgid, nil, int 32 result. */
const SCRATCH = new Uint8Array(13);
const VIEW = new DataView(SCRATCH.buffer);

/**
 * Writes `value` at `at` as msgpackr writes an integer with `useRecords: false`; the
 * offset after it, or -1 when `value` is no 32-bit integer (a float, a larger number).
 */
function writeInt(value: number, at: number): number {
  if (value >>> 0 === value) {
    if (value < 0x80) {
      SCRATCH[at] = value;
      return at + 1;
    }
    if (value < 0x100) {
      SCRATCH[at] = 0xcc;
      SCRATCH[at + 1] = value;
      return at + 2;
    }
    if (value < 0x10000) {
      SCRATCH[at] = 0xcd;
      VIEW.setUint16(at + 1, value);
      return at + 3;
    }
    SCRATCH[at] = 0xce;
    VIEW.setUint32(at + 1, value);
    return at + 5;
  }
  if (value >> 0 === value) {
    if (value >= -0x20) {
      SCRATCH[at] = 0x100 + value;
      return at + 1;
    }
    if (value >= -0x80) {
      SCRATCH[at] = 0xd0;
      SCRATCH[at + 1] = value + 0x100;
      return at + 2;
    }
    if (value >= -0x8000) {
      SCRATCH[at] = 0xd1;
      VIEW.setInt16(at + 1, value);
      return at + 3;
    }
    SCRATCH[at] = 0xd2;
    VIEW.setInt32(at + 1, value);
    return at + 5;
  }
  return -1;
}

/**
 * Pushes the success response `[1, msgid, nil, result]` to `sink` when `result` is nil
 * (`undefined` too), a boolean or a 32-bit integer, and so is `msgid`; false, with
 * nothing pushed, for any other result (the packer's to write).
 */
export function pushSmallResponse(sink: ByteSink, msgid: number, result: unknown): boolean {
  let at: number;
  if (typeof result === "number") {
    at = writeInt(msgid, 2);
    if (at < 0) return false;
    SCRATCH[at] = 0xc0;
    at = writeInt(result, at + 1);
    if (at < 0) return false;
  } else if (result === null || result === undefined || typeof result === "boolean") {
    at = writeInt(msgid, 2);
    if (at < 0) return false;
    SCRATCH[at] = 0xc0;
    SCRATCH[at + 1] = result === true ? 0xc3 : result === false ? 0xc2 : 0xc0;
    at += 2;
  } else {
    return false;
  }
  SCRATCH[0] = 0x94;
  SCRATCH[1] = 0x01;
  sink.push(SCRATCH, 0, at);
  return true;
}
