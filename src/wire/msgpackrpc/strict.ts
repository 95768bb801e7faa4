/**
 * What msgpackr decodes otherwise than msgpack defines, found before it is decoded: record
 * definitions (fixext 1/2 of type 0x72, which msgpackr reads ahead of its extension table,
 * so they cannot be switched off there), and the map key `__proto__` (which msgpackr
 * renames `__proto_`; `own_keys.ts` decodes such maps). Extension types are otherwise
 * handled by `extension.ts`; the unused byte 0xc1 by the framing scanner.
 *
 * @module
 */

import { COMPLETE, type Header, readHeader } from "./header.ts";

/** msgpackr's record-definition extension type ("r"). */
const RECORD = 0x72;

/**
 * Cheap pre-test: a record definition starts with fixext 1 or 2 (0xd4, 0xd5) followed by
 * 0x72. Only when such a pair occurs (rare: inside a string or a number, it is a false
 * alarm) does the caller walk the values with {@linkcode recordDefinitionIn}. One search
 * for the type byte, then a look at the byte before each: two searches for the two heads
 * cost three times as much on a run of small calls.
 */
export function mayHoldRecords(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(RECORD, 1); i >= 0; i = bytes.indexOf(RECORD, i + 1)) {
    const head = bytes[i - 1];
    if (head === 0xd4 || head === 0xd5) return true;
  }
  return false;
}

/** The bytes of the string `__proto__`. */
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f];

/**
 * The first offset in `bytes` where a record definition (a fixext 1/2 head before 0x72) or
 * the string `__proto__` may start, or -1: msgpackr may decode the values before it in one
 * pass; the message holding it is decoded alone, by `decodeMessage`. A false alarm (the
 * bytes inside a longer string, say) only costs that message the careful path.
 */
export function suspectAt(bytes: Uint8Array): number {
  let first = -1;
  for (let i = bytes.indexOf(RECORD, 1); i >= 0; i = bytes.indexOf(RECORD, i + 1)) {
    const head = bytes[i - 1];
    if (head === 0xd4 || head === 0xd5) {
      first = i - 1;
      break;
    }
  }
  const proto = protoAt(bytes, first < 0 ? bytes.byteLength : first);
  return proto >= 0 ? proto : first;
}

/** Where the string `__proto__` first starts in `bytes[0, end)`, or -1. */
function protoAt(bytes: Uint8Array, end: number): number {
  const last = end - PROTO.length;
  for (let i = bytes.indexOf(PROTO[0]); i >= 0 && i <= last; i = bytes.indexOf(PROTO[0], i + 1)) {
    let k = 1;
    while (k < PROTO.length && bytes[i + k] === PROTO[k]) k++;
    if (k === PROTO.length) return i;
  }
  return -1;
}

/** Whether `bytes` hold the string `__proto__` (a map key msgpackr would rename). */
export function holdsProtoKey(bytes: Uint8Array): boolean {
  return protoAt(bytes, bytes.byteLength) >= 0;
}

/**
 * Walks the msgpack values in `bytes` and names the first msgpackr record definition, or
 * returns undefined. Stops quietly at an incomplete or invalid value (the decoder's to
 * report). Linear in the length of `bytes`: container items follow their header inline.
 */
export function recordDefinitionIn(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: Header = { head: 0, body: 0, items: 0 };
  const end = bytes.byteLength;
  for (let pos = 0; pos < end; pos += header.head + header.body) {
    const b = bytes[pos];
    if ((b === 0xd4 || b === 0xd5) && bytes[pos + 1] === RECORD) {
      return `a msgpackr record definition at offset ${pos}`;
    }
    if (readHeader(bytes, view, pos, end, header) !== COMPLETE) return undefined;
  }
  return undefined;
}
