/**
 * Where a (possibly mutated) run of msgpack bytes ends: the fuzzer pads an incomplete
 * last object with zero bytes so that the server sees whole frames and answers the
 * sentinel after them, instead of waiting for bytes that never come.
 *
 * @module
 */

/** What the server will make of the bytes. */
export type FrameFate =
  | { kind: "complete"; padding: number }
  | { kind: "fatal"; why: string }
  | { kind: "incomplete"; why: string };

/** Fixed sizes (head bytes) of the msgpack types that have no length field. */
function fixedHead(b: number): number {
  switch (b) {
    case 0xcc:
    case 0xd0:
      return 2;
    case 0xcd:
    case 0xd1:
      return 3;
    case 0xca:
    case 0xce:
    case 0xd2:
      return 5;
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return 9;
    case 0xd4:
      return 3;
    case 0xd5:
      return 4;
    case 0xd6:
      return 6;
    case 0xd7:
      return 10;
    case 0xd8:
      return 18;
    default:
      return 1;
  }
}

/** Length-field widths (and head size) of the variable-length types. */
const VAR: Record<number, [width: number, head: number, kind: "body" | "items" | "pairs"]> = {
  0xc4: [1, 2, "body"],
  0xc5: [2, 3, "body"],
  0xc6: [4, 5, "body"],
  0xd9: [1, 2, "body"],
  0xda: [2, 3, "body"],
  0xdb: [4, 5, "body"],
  0xc7: [1, 3, "body"],
  0xc8: [2, 4, "body"],
  0xc9: [4, 6, "body"],
  0xdc: [2, 3, "items"],
  0xdd: [4, 5, "items"],
  0xde: [2, 3, "pairs"],
  0xdf: [4, 5, "pairs"],
};

/**
 * Scans `bytes` as a sequence of msgpack objects, reading zeros past the end, and says how
 * many zero bytes complete the last one (at most `maxPad`), or that the server will drop
 * the connection (an invalid byte, a frame over `maxMessage`).
 */
export function frameFate(bytes: Uint8Array, maxPad: number, maxMessage: number): FrameFate {
  const n = bytes.length;
  const at = (i: number) => (i < n ? bytes[i] : 0);
  let pos = 0;
  while (pos < n) {
    const start = pos;
    let count = 1;
    while (count > 0) {
      if (pos > n + maxPad) return { kind: "incomplete", why: `needs over ${maxPad} more bytes` };
      const b = at(pos);
      let head = 1, body = 0, items = 0;
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) {
        // one byte
      } else if (b <= 0x8f) items = (b & 0x0f) * 2;
      else if (b <= 0x9f) items = b & 0x0f;
      else if (b <= 0xbf) body = b & 0x1f;
      else if (b === 0xc1) return { kind: "fatal", why: "invalid byte 0xc1" };
      else if (VAR[b]) {
        const [width, h, kind] = VAR[b];
        head = h;
        let len = 0;
        for (let k = 1; k <= width; k++) len = len * 256 + at(pos + k);
        if (kind === "body") body = len;
        else items = kind === "pairs" ? len * 2 : len;
      } else head = fixedHead(b);
      if (pos + head + body + items - start > maxMessage) {
        return { kind: "fatal", why: "frame over the size limit" };
      }
      pos += head + body;
      count += items - 1;
    }
  }
  if (pos - n > maxPad) return { kind: "incomplete", why: `needs ${pos - n} more bytes` };
  return { kind: "complete", padding: pos - n };
}
