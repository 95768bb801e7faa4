/**
 * msgpack extension types as the spec defines them: a type byte and opaque data. The only
 * extension the msgpack spec itself defines is the timestamp (-1, decoded as `Date`); types
 * registered with `registerType` decode as their classes. Every other extension from the
 * wire (Neovim's Buffer/Window/Tabpage handles are types 0, 1, 2) decodes as a
 * {@linkcode MsgpackExtension} and is written back byte for byte, so a peer's handle goes
 * back to it unchanged.
 *
 * msgpackr also understands extensions of its own (structured-clone references, records,
 * errors, sets, regular expressions, typed arrays, bundled strings); none of them is msgpack,
 * and the references turn a few hundred bytes into a graph with billions of paths. They are
 * never decoded from the wire: their type bytes are opaque here like any other.
 *
 * @module
 */

import { addExtension } from "msgpackr/pack";

/**
 * An extension value the codec does not interpret: its type (-128..127) and its data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MsgpackExtension } from "./extension.ts";
 *
 * const buffer = new MsgpackExtension(0, new Uint8Array([1])); // Neovim's buffer 1
 * assert.equal(buffer.type, 0);
 * assert.deepEqual(buffer.data, new Uint8Array([1]));
 * ```
 */
export class MsgpackExtension {
  /** The extension type, -128..127 (negative types are reserved by the msgpack spec). */
  readonly type: number;
  /** The extension's data, as received. */
  readonly data: Uint8Array;

  /** Wraps an extension value; `type` must be an integer in -128..127. */
  constructor(type: number, data: Uint8Array) {
    if (!Number.isInteger(type) || type < -128 || type > 127) {
      throw new RangeError(`msgpack extension type must be an integer in -128..127, got ${type}`);
    }
    this.type = type;
    this.data = data;
  }
}

/** The timestamp extension (-1 as a byte): the one extension msgpack itself defines. */
const TIMESTAMP = 0xff;

/** The header of an extension of `length` bytes: fixext 1/2/4/8/16, else ext 8/16/32. */
function header(length: number): number[] {
  switch (length) {
    case 1:
      return [0xd4];
    case 2:
      return [0xd5];
    case 4:
      return [0xd6];
    case 8:
      return [0xd7];
    case 16:
      return [0xd8];
  }
  if (length < 0x100) return [0xc7, length];
  if (length < 0x10000) return [0xc8, length >> 8, length & 0xff];
  return [0xc9, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}

/** The reader of extension `typeByte`: an opaque {@linkcode MsgpackExtension}. */
export function opaque(typeByte: number): (data: Uint8Array) => MsgpackExtension {
  const type = typeByte > 127 ? typeByte - 256 : typeByte;
  // msgpackr hands over a view of its (reused) input: keep a copy.
  return (data: Uint8Array) => new MsgpackExtension(type, data.slice());
}

let installed = false;

/**
 * Makes msgpackr decode every extension type but the timestamp as a
 * {@linkcode MsgpackExtension}, and write those values back as they came. msgpackr's
 * extension table is global: call this before registering any class of your own
 * (`registerType` installs its types afterwards, over these). Idempotent.
 */
export function installOpaqueExtensions(): void {
  if (installed) return;
  installed = true;
  addExtension(
    {
      Class: MsgpackExtension,
      // The writer below emits the value's own type; msgpackr insists on a type here.
      type: 1,
      pack(value: object, allocate: (size: number) => { target: Uint8Array; position: number }) {
        const { type, data } = value as MsgpackExtension;
        const head = header(data.byteLength);
        const size = head.length + 1 + data.byteLength;
        const { target, position } = allocate(size);
        target.set(head, position);
        target[position + head.length] = type & 0xff;
        target.set(data, position + head.length + 1);
        return undefined as unknown as Uint8Array; // written in place
      },
      unpack: opaque(1),
    } as unknown as Parameters<typeof addExtension>[0],
  );
  for (let type = 0; type < 0x100; type++) {
    if (type !== TIMESTAMP && type !== 1) addExtension({ type, unpack: opaque(type) });
  }
}
