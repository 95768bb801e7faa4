/**
 * What msgpackr decodes that msgpack does not define, found before it is decoded: record
 * definitions (fixext 1/2 of type 0x72, which msgpackr reads ahead of its extension table,
 * so they cannot be switched off there). Extension types are otherwise handled by
 * `extension.ts`; the unused byte 0xc1 by the framing scanner.
 *
 * @module
 */

/** msgpackr's record-definition extension type ("r"). */
const RECORD = 0x72;

/** Cheap pre-test: only a fixext 1 or 2 byte can start a record definition. */
export function mayHoldRecords(bytes: Uint8Array): boolean {
  return bytes.indexOf(0xd4) >= 0 || bytes.indexOf(0xd5) >= 0;
}

/**
 * Walks the msgpack values in `bytes` and names the first msgpackr record definition, or
 * returns undefined. Stops quietly at the end of the bytes (an incomplete value is the
 * decoder's to report). Linear in the length of `bytes`.
 */
export function recordDefinitionIn(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  let pos = 0;
  while (pos < end) {
    const b = bytes[pos];
    let head = 1, body = 0;
    if (
      b <= 0x7f || b >= 0xe0 || (b >= 0x80 && b <= 0x9f) || b === 0xc0 || b === 0xc2 || b === 0xc3
    ) {
      // fixint, fixmap/fixarray headers (their items follow inline), nil, bool
    } else if (b <= 0xbf) body = b & 0x1f;
    else {
      switch (b) {
        case 0xc4:
        case 0xd9:
          head = 2;
          body = pos + 1 < end ? bytes[pos + 1] : 0;
          break;
        case 0xc5:
        case 0xda:
          head = 3;
          body = pos + 3 <= end ? view.getUint16(pos + 1) : 0;
          break;
        case 0xc6:
        case 0xdb:
          head = 5;
          body = pos + 5 <= end ? view.getUint32(pos + 1) : 0;
          break;
        case 0xc7:
          head = 3;
          body = pos + 1 < end ? bytes[pos + 1] : 0;
          break;
        case 0xc8:
          head = 4;
          body = pos + 3 <= end ? view.getUint16(pos + 1) : 0;
          break;
        case 0xc9:
          head = 6;
          body = pos + 5 <= end ? view.getUint32(pos + 1) : 0;
          break;
        case 0xd4:
        case 0xd5:
          if (bytes[pos + 1] === RECORD) return `a msgpackr record definition at offset ${pos}`;
          head = b === 0xd4 ? 3 : 4;
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
        case 0xdc:
        case 0xde:
          head = 3; // 16-bit scalars; array/map 16 headers (their items follow inline)
          break;
        case 0xdd:
        case 0xdf:
          head = 5;
          break;
        default: // 0xc1: the framing scanner and the decoder refuse it
          return undefined;
      }
    }
    pos += head + body;
  }
  return undefined;
}
