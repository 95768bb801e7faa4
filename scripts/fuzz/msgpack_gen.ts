/**
 * msgpack-rpc inputs: messages from the corpus written by an encoder that varies every
 * choice the format allows (non-minimal widths, str vs bin, any extension type, maps with
 * non-string keys, invalid UTF-8), structured-clone reference graphs (ext 0x69/0x70),
 * depth and length bombs, mutated message shapes, and byte-level mutations on top.
 *
 * @module
 */

import { encodeRequest } from "../../src/wire/msgpackrpc/codec.ts";
import type { Rng } from "./rng.ts";
import { mutateBytes } from "./mutate_bytes.ts";
import { Deep, Entries, Ext, mutateCall, randomValue, RawText, validCalls } from "./values.ts";

const CORPUS = validCalls();
const encoder = new TextEncoder();

/** A growable byte buffer. */
class Out {
  buf = new Uint8Array(256);
  len = 0;
  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
  byte(b: number): void {
    this.#room(1);
    this.buf[this.len++] = b & 0xff;
  }
  uint(v: number, width: number): void {
    for (let i = width - 1; i >= 0; i--) this.byte(Math.floor(v / 2 ** (8 * i)));
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

type Form = readonly [tag: number, width: number];
const STR: Form[] = [[0xd9, 1], [0xda, 2], [0xdb, 4]];
const BIN: Form[] = [[0xc4, 1], [0xc5, 2], [0xc6, 4]];
const ARRAY: Form[] = [[0xdc, 2], [0xdd, 4]];
const MAP: Form[] = [[0xde, 2], [0xdf, 4]];
const EXT: Form[] = [[0xc7, 1], [0xc8, 2], [0xc9, 4]];

/** A length header: the smallest form usually, a wider (valid, non-minimal) one sometimes. */
function header(rng: Rng, out: Out, n: number, fix: number, fixMax: number, forms: Form[]): void {
  if (fix >= 0 && n <= fixMax && rng.chance(0.85)) return out.byte(fix + n);
  const fits = forms.filter(([, w]) => n < 2 ** (8 * w));
  const [tag, width] = rng.chance(0.8) ? fits[0] : rng.pick(fits);
  out.byte(tag);
  out.uint(n, width);
}

function writeInt(rng: Rng, out: Out, v: number): void {
  if (v >= 0 && v < 128 && rng.chance(0.8)) return out.byte(v);
  if (v < 0 && v >= -32 && rng.chance(0.8)) return out.byte(v & 0xff);
  if (v >= -0x8000_0000 && v <= 0xffff_ffff && !rng.chance(0.1)) {
    // Number arithmetic for the common widths (BigInt per integer is slow).
    const forms = v < 0
      ? (v >= -128
        ? [[0xd0, 1], [0xd1, 2], [0xd2, 4]]
        : v >= -32768
        ? [[0xd1, 2], [0xd2, 4]]
        : [[0xd2, 4]])
      : (v < 256
        ? [[0xcc, 1], [0xcd, 2], [0xce, 4]]
        : v < 65536
        ? [[0xcd, 2], [0xce, 4]]
        : [[0xce, 4]]);
    const [tag, width] = rng.chance(0.8) ? forms[0] : rng.pick(forms);
    out.byte(tag);
    return out.uint(v < 0 ? v + 2 ** (8 * width) : v, width);
  }
  writeBig(rng, out, BigInt(v));
}

function writeBig(rng: Rng, out: Out, v: bigint): void {
  const signed = v < 0n || rng.chance(0.3);
  if (signed && v >= -(2n ** 63n) && v < 2n ** 63n) {
    for (const [tag, w] of [[0xd0, 1], [0xd1, 2], [0xd2, 4], [0xd3, 8]] as const) {
      const lim = 2n ** BigInt(8 * w - 1);
      if (v >= -lim && v < lim && (w === 8 || rng.chance(0.7))) {
        out.byte(tag);
        return writeTwos(out, v, w);
      }
    }
  }
  if (v >= 0n && v < 2n ** 64n) {
    for (const [tag, w] of [[0xcc, 1], [0xcd, 2], [0xce, 4], [0xcf, 8]] as const) {
      if (v < 2n ** BigInt(8 * w) && (w === 8 || rng.chance(0.7))) {
        out.byte(tag);
        return writeTwos(out, v, w);
      }
    }
  }
  out.byte(0xcb); // too big for 64 bits: a double
  const f = new DataView(new ArrayBuffer(8));
  f.setFloat64(0, Number(v));
  out.bytes(new Uint8Array(f.buffer));
}

function writeTwos(out: Out, v: bigint, width: number): void {
  const u = BigInt.asUintN(8 * width, v);
  for (let i = width - 1; i >= 0; i--) out.byte(Number((u >> BigInt(8 * i)) & 0xffn));
}

/** Writes any value (markers included) as msgpack, varying the encoding. */
export function writeValue(rng: Rng, out: Out, v: unknown): void {
  if (v === null || v === undefined) return out.byte(0xc0);
  if (v === true || v === false) return out.byte(v ? 0xc3 : 0xc2);
  if (typeof v === "number") {
    if (Number.isInteger(v) && Math.abs(v) <= 2 ** 63 && rng.chance(0.9)) {
      return writeInt(rng, out, v);
    }
    const f = new DataView(new ArrayBuffer(8));
    if (Math.fround(v) === v && rng.chance(0.5)) {
      f.setFloat32(0, v);
      out.byte(0xca);
      return out.bytes(new Uint8Array(f.buffer, 0, 4));
    }
    f.setFloat64(0, v);
    out.byte(0xcb);
    return out.bytes(new Uint8Array(f.buffer));
  }
  if (typeof v === "bigint") return writeBig(rng, out, v);
  if (v instanceof RawText) return writeValue(rng, out, v.text);
  if (typeof v === "string") {
    let bytes = encoder.encode(v);
    if (rng.chance(0.03)) bytes = Uint8Array.of(...bytes, rng.pick([0x80, 0xc0, 0xed, 0xff]), 0xa0); // invalid UTF-8
    header(rng, out, bytes.length, 0xa0, 31, STR);
    return out.bytes(bytes);
  }
  if (v instanceof Uint8Array) {
    header(rng, out, v.length, -1, -1, BIN);
    return out.bytes(v);
  }
  if (v instanceof Date) {
    const secs = Math.floor(v.getTime() / 1000);
    if (rng.chance(0.5) && secs >= 0 && secs < 2 ** 32) {
      out.bytes(Uint8Array.of(0xd6, 0xff));
      return out.uint(secs, 4);
    }
    return writeExt(rng, out, new Ext(0xff, rng.bytes(rng.pick([8, 12, 3, 0]))));
  }
  if (v instanceof Ext) return writeExt(rng, out, v);
  if (v instanceof Deep) {
    for (let i = 0; i < v.depth; i++) {
      v.objects ? out.bytes(Uint8Array.of(0x81, 0xa1, 0x61)) : out.byte(0x91);
    }
    return out.byte(0x01);
  }
  if (Array.isArray(v)) {
    header(rng, out, v.length, 0x90, 15, ARRAY);
    for (const item of v) writeValue(rng, out, item);
    return;
  }
  const entries = v instanceof Entries ? v.entries : Object.entries(v as object);
  header(rng, out, entries.length, 0x80, 15, MAP);
  for (const [k, x] of entries) {
    writeValue(rng, out, k);
    writeValue(rng, out, x);
  }
}

function writeExt(rng: Rng, out: Out, ext: Ext): void {
  const n = ext.data.length;
  const fixed = [1, 2, 4, 8, 16].indexOf(n);
  if (fixed >= 0 && rng.chance(0.7)) out.byte(0xd4 + fixed);
  else header(rng, out, n, -1, -1, EXT);
  out.byte(ext.type);
  out.bytes(ext.data);
}

/**
 * A structured-clone reference graph (ext 0x69 defines an id, ext 0x70 points at one):
 * each level holds pointers to earlier levels, so sharing can make the decoded value's
 * path count exponential in its size, and self-pointers make cycles.
 */
export function writeGraph(rng: Rng, out: Out): void {
  const levels = rng.size(48) + 1;
  header(rng, out, levels, 0x90, 15, ARRAY);
  for (let k = 0; k < levels; k++) {
    out.bytes(Uint8Array.of(0xd6, 0x69));
    out.uint(k, 4);
    const refs = k === 0 ? 0 : rng.range(1, 3);
    out.byte(0x90 + refs + (k === 0 ? 1 : 0));
    if (k === 0) out.byte(0x01);
    for (let r = 0; r < refs; r++) {
      out.bytes(Uint8Array.of(0xd6, 0x70));
      out.uint(rng.chance(0.85) ? k - 1 : rng.chance(0.9) ? rng.int(k) : rng.int(k + 2), 4);
    }
  }
}

/** A message (request, notification, response or a misshapen array) as msgpack. */
export function messageBytes(rng: Rng, msgid: number): Uint8Array {
  let call = rng.pick(CORPUS);
  if (rng.chance(0.7)) call = mutateCall(rng, call, { msgpack: true });
  const out = new Out();
  const roll = rng.int(20);
  if (rng.chance(0.01)) { // a reference graph where Echo.any takes any value
    out.bytes(Uint8Array.of(0x94, 0x00));
    writeInt(rng, out, msgid);
    writeValue(rng, out, "Echo.any");
    out.byte(0x91);
    writeGraph(rng, out);
    return maybeMutate(rng, out.done());
  }
  let message: unknown[];
  if (roll < 13) message = [0, msgid, call.method, call.params];
  else if (roll < 15) {
    message = [0, msgid, call.method, call.params, {
      timeout: rng.pick([1, 0, -1, 1e9, "x", null]),
    }];
  } else if (roll < 17) message = [2, call.method, call.params];
  else if (roll < 18) message = [1, msgid, null, call.params];
  else {message = [
      randomValue(rng, 0, { msgpack: true }),
      rng.chance(0.5) ? msgid : randomValue(rng, 0, { msgpack: true }),
      call.method,
      call.params,
      0,
    ].slice(0, rng.range(0, 5));}
  if (rng.chance(0.05)) message[1] = rng.pick([-1, 2 ** 32, 1.5, "1", null, 2n ** 63n]);
  writeValue(rng, out, rng.chance(0.03) ? randomValue(rng, 2, { msgpack: true }) : message);
  return maybeMutate(rng, out.done());
}

function maybeMutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  if (!rng.chance(0.3)) return bytes;
  const other = new Out();
  writeValue(rng, other, [0, 1, rng.pick(CORPUS).method, rng.pick(CORPUS).params]);
  return mutateBytes(rng, bytes, other.done());
}

/** A request as the codec writes it (the sentinel and the known call). */
export function plainRequest(msgid: number, method: string, params: unknown[]): Uint8Array {
  return encodeRequest(msgid, method, params).slice(); // the codec's buffer is reused
}

export { Out };
