/**
 * What msgpackr decodes that msgpack does not define, found before it is decoded: record
 * definitions (fixext 1/2 of type 0x72, which msgpackr reads ahead of its extension table,
 * so they cannot be switched off there). Extension types are otherwise handled by
 * `extension.ts`; the unused byte 0xc1 by the framing scanner.
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
