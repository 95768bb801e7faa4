/**
 * The msgpack library as msgpack-rpc needs it: plain msgpack for third-party peers (no
 * records, no bundled strings, no structured clones), bin ⇄ `Uint8Array`, timestamp ⇄
 * `Date`, 64-bit integers as numbers when safe, `Float64` as a float 64, registered classes
 * as their extension types and every other extension opaque; and the fast path that packs a
 * message straight into msgpackr's shared output buffer.
 *
 * @module
 */

// The plain JavaScript entry: "msgpackr" itself probes for a native add-on and reads the
// environment as it loads (a client would need --allow-env); servers opt in to the add-on
// (see src/adapters/deno/msgpack_native.ts).
import { addExtension, Packr, REUSE_BUFFER_MODE, Unpackr } from "msgpackr/pack";
import { installMsgpackExtensions } from "../../core/idl/translators.ts";
import { installOpaqueExtensions, opaque } from "./extension.ts";
import { installFloat64 } from "./float64.ts";

/**
 * An invalid `Date` has no msgpack timestamp; msgpackr would write `d4 ff ff`, which no
 * peer can read as one. Encoding it is an error instead (the reply becomes InternalError).
 */
function invalidDate(): never {
  throw new RangeError("an invalid Date has no msgpack timestamp");
}

const packr = new Packr({
  useRecords: false,
  onInvalidDate: invalidDate,
  encodeUndefinedAsNil: true,
  // Like JSON: a member whose value is undefined is absent, not nil (an absent optional
  // field would otherwise arrive as null and fail its check). Missing from the typings.
  ...{ skipValues: [undefined] },
  // Plain msgpack for third-party peers: no structures, no bundled strings.
  moreTypes: false,
});
/** The decoder of every message (msgpack only: see the extension notes). */
export const unpackr: Unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  // Decoded bytes must not alias the (reused) receive buffer.
  copyBuffers: true,
  // "auto" (number when safe, else bigint) is supported at runtime but not in the typings.
  int64AsType: "auto" as "bigint",
  // Shared references (ext 0x69/0x70) are not msgpack: a few hundred bytes of them decode
  // to a graph with billions of paths. Missing from the typings.
  ...{ structuredClone: false },
});

// Extensions msgpack does not define stay opaque (and msgpackr's own are never decoded);
// first, so that the types registered below take precedence.
installOpaqueExtensions();
// Whole numbers at `t.float` places, wrapped, go out as float 64 (type 1 keeps its reader).
installFloat64(addExtension, 1, opaque(1));

// Types registered with `registerType` travel as msgpack extension types.
installMsgpackExtensions({
  addExtension,
  pack: (value) => packr.pack(value),
  unpack: (bytes) => unpackr.unpack(bytes),
});

/** Encodes any value as msgpack (the library Switchboard uses; see scripts/bench). */
export function pack(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes one msgpack value; throws on malformed or incomplete input. */
export function unpack(bytes: Uint8Array): unknown {
  return unpackr.unpack(plain(bytes));
}

/** A plain Uint8Array view (decoded bin values are slices of the input: no Node Buffers). */
export function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** msgpackr's shared output buffer, with where the last message packed into it lies. */
export type Packed = Uint8Array & { start: number; end: number };

/**
 * The first try at every message: msgpackr's default object writer, faster than the one
 * `skipValues` selects (docs/benchmarks-history.md), but it cannot leave undefined members
 * out. It marks undefined as a fixext1 (`0xd4 …`) instead, and any message holding a 0xd4
 * byte (that marker, or an innocent byte that looks like it) is packed again by `packr`.
 */
const fastPackr = new Packr({ useRecords: false, moreTypes: false, onInvalidDate: invalidDate });
const UNDEFINED_MARK = 0xd4;

/** Packs into msgpackr's shared output buffer; later packs write after it, never over it. */
export function packShared(value: unknown): Packed {
  let fast: Packed | undefined;
  try {
    fast = fastPackr.pack(value, REUSE_BUFFER_MODE) as unknown as Packed;
  } catch {
    // e.g. a map too large for the fast writer's 16-bit size: the careful packer decides
  }
  if (fast && viewOf(fast).indexOf(UNDEFINED_MARK) < 0) return fast;
  return packr.pack(value, REUSE_BUFFER_MODE) as unknown as Packed;
}

/**
 * A plain view of the last message packed: cheaper than the Node `Buffer` that `pack`
 * returns, which costs a subclass construction per message.
 */
export function viewOf(packed: Packed): Uint8Array {
  return new Uint8Array(packed.buffer, packed.byteOffset + packed.start, packed.end - packed.start);
}

/** Packs a message and returns a plain view of its bytes. */
export function packMessage(value: unknown): Uint8Array {
  return viewOf(packShared(value));
}

/** Where an encoder can copy a message's bytes straight from the packer's buffer. */
export interface ByteSink {
  /** Takes `bytes[start, end)`; the bytes may be reused once this returns. */
  push(bytes: Uint8Array, start: number, end: number): void;
}
