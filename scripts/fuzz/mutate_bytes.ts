/**
 * Byte-level mutations, the same for every protocol: bit flips, interesting bytes,
 * truncation, deletion, duplication, splicing with another input, and length-field
 * corruption (boundary integers written over any position).
 *
 * @module
 */

import type { Rng } from "./rng.ts";

/** Bytes that sit on boundaries of msgpack type tags, UTF-8 and XML/JSON syntax. */
const INTERESTING = [
  0x00,
  0x01,
  0x7f,
  0x80,
  0x8f,
  0x90,
  0x9f,
  0xa0,
  0xbf,
  0xc0,
  0xc1,
  0xc4,
  0xc7,
  0xc9,
  0xcf,
  0xd4,
  0xd8,
  0xd9,
  0xdb,
  0xdc,
  0xdd,
  0xde,
  0xdf,
  0xe0,
  0xed,
  0xf4,
  0xf8,
  0xfe,
  0xff,
  0x22,
  0x26,
  0x2c,
  0x3a,
  0x3c,
  0x3e,
  0x5b,
  0x5c,
  0x5d,
  0x7b,
  0x7d,
];

/** 16- and 32-bit values that break length fields (zero, off by one, huge). */
const BOUNDARY = [
  0,
  1,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x7fff,
  0x8000,
  0xffff,
  0x10000,
  0x7fff_ffff,
  0xffff_ffff,
];

/** Names of the mutations, for reports. */
export type ByteMutation =
  | "bitflip"
  | "byte"
  | "truncate"
  | "delete"
  | "insert"
  | "duplicate"
  | "splice"
  | "length"
  | "repeat";

/** Inputs grow no larger than this (a little over the servers' 1 MiB default body limit). */
export const MAX_INPUT = 1_200_000;

/** Applies 1–4 random byte mutations; `other` is another corpus input to splice with. */
export function mutateBytes(rng: Rng, input: Uint8Array, other: Uint8Array): Uint8Array {
  let out = input;
  const rounds = rng.range(1, 4);
  for (let i = 0; i < rounds; i++) out = mutateOnce(rng, out, other);
  return out.length > MAX_INPUT ? out.subarray(0, MAX_INPUT) : out;
}

function mutateOnce(rng: Rng, input: Uint8Array, other: Uint8Array): Uint8Array {
  const n = input.length;
  const at = rng.int(n + 1);
  switch (rng.int(9)) {
    case 0: { // bitflip
      if (n === 0) return rng.bytes(1);
      const out = input.slice();
      out[rng.int(n)] ^= 1 << rng.int(8);
      return out;
    }
    case 1: { // an interesting byte
      if (n === 0) return Uint8Array.of(rng.pick(INTERESTING));
      const out = input.slice();
      out[rng.int(n)] = rng.pick(INTERESTING);
      return out;
    }
    case 2: // truncate
      return input.slice(0, at);
    case 3: { // delete a range
      const len = rng.size(Math.max(1, n - at));
      return concat(input.subarray(0, at), input.subarray(at + len));
    }
    case 4: // insert random bytes
      return concat(input.subarray(0, at), rng.bytes(rng.size(16)), input.subarray(at));
    case 5: { // duplicate a range in place
      const len = rng.size(Math.max(1, n - at));
      return concat(input.subarray(0, at + len), input.subarray(at, at + len), input.subarray(at));
    }
    case 6: { // splice: our head, the other's tail
      const cut = rng.int(other.length + 1);
      return concat(input.subarray(0, at), other.subarray(cut));
    }
    case 7: { // a boundary integer over a length field (big-endian, 1, 2 or 4 bytes)
      if (n === 0) return input;
      const out = input.slice();
      const width = rng.pick([1, 2, 4]);
      const value = rng.pick(BOUNDARY);
      const pos = rng.int(n);
      for (let k = 0; k < width && pos + k < n; k++) {
        out[pos + k] = (value >>> ((width - 1 - k) * 8)) & 0xff;
      }
      return out;
    }
    default: { // repeat a small range many times (long runs, deep nesting of one opener)
      if (n === 0) return input;
      const len = rng.range(1, Math.min(4, n - Math.min(at, n - 1)));
      const start = Math.min(at, n - 1);
      const piece = input.subarray(start, start + len);
      const times = Math.min(rng.size(200_000), Math.floor(MAX_INPUT / piece.length));
      const run = new Uint8Array(piece.length * times);
      for (let k = 0; k < times; k++) run.set(piece, k * piece.length);
      return concat(input.subarray(0, start), run, input.subarray(start));
    }
  }
}

/** Joins byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
