/**
 * The shape of a msgpack value read from its first bytes: how long its header is, how many
 * bytes of body follow, and how many values it holds (arrays, maps). Both the framing
 * scanner and the record check walk values with it, header by header, never decoding them.
 *
 * @module
 */

/** What {@linkcode readHeader} found; reused between calls (no allocation per value). */
export interface Header {
  /** Bytes of the header, type byte included. */
  head: number;
  /** Bytes after the header that belong to this value (strings, binaries, extensions). */
  body: number;
  /** Values nested inside (array items, map keys and values), which follow inline. */
  items: number;
}

/** {@linkcode readHeader}: the header is whole. */
export const COMPLETE = 1;
/** {@linkcode readHeader}: the length bytes of the header have not all arrived. */
export const INCOMPLETE = 0;
/** {@linkcode readHeader}: 0xc1, the one byte msgpack never uses. */
export const INVALID = -1;

/** Reads the header of the value at `pos` into `out`; see the result constants. */
export function readHeader(
  buf: Uint8Array,
  view: DataView,
  pos: number,
  end: number,
  out: Header,
): number {
  const b = buf[pos];
  let head = 1, body = 0, items = 0;
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
    // fixint, nil, bool
  } else if (b <= 0x8f) items = (b & 0x0f) * 2;
  else if (b <= 0x9f) items = b & 0x0f;
  else if (b <= 0xbf) body = b & 0x1f;
  else {
    // [header size, bytes of its length field (0: fixed size), what the length counts]
    switch (b) {
      case 0xc4: // bin 8
      case 0xd9: // str 8
      case 0xc7: // ext 8
        head = b === 0xc7 ? 3 : 2;
        if (pos + 2 > end) return INCOMPLETE;
        body = buf[pos + 1];
        break;
      case 0xc5:
      case 0xda:
      case 0xc8:
        head = b === 0xc8 ? 4 : 3;
        if (pos + 3 > end) return INCOMPLETE;
        body = view.getUint16(pos + 1);
        break;
      case 0xc6:
      case 0xdb:
      case 0xc9:
        head = b === 0xc9 ? 6 : 5;
        if (pos + 5 > end) return INCOMPLETE;
        body = view.getUint32(pos + 1);
        break;
      case 0xcc:
      case 0xd0:
        head = 2;
        break;
      case 0xcd:
      case 0xd1:
      case 0xd4: // fixext 1: type + 1 byte
        head = 3;
        break;
      case 0xd5:
        head = 4;
        break;
      case 0xca:
      case 0xce:
      case 0xd2:
        head = 5;
        break;
      case 0xd6:
        head = 6;
        break;
      case 0xcb:
      case 0xcf:
      case 0xd3:
        head = 9;
        break;
      case 0xd7:
        head = 10;
        break;
      case 0xd8:
        head = 18;
        break;
      case 0xdc: // array 16
      case 0xde: // map 16
        head = 3;
        if (pos + 3 > end) return INCOMPLETE;
        items = view.getUint16(pos + 1) * (b === 0xde ? 2 : 1);
        break;
      case 0xdd:
      case 0xdf:
        head = 5;
        if (pos + 5 > end) return INCOMPLETE;
        items = view.getUint32(pos + 1) * (b === 0xdf ? 2 : 1);
        break;
      default: // 0xc1
        return INVALID;
    }
  }
  out.head = head;
  out.body = body;
  out.items = items;
  return COMPLETE;
}
