/**
 * msgpack extension types Switchboard does not know travel as opaque values: decoded into
 * {@linkcode MsgpackExtension} (`type` and the raw `data`) and packed back byte for byte.
 * Neovim's Buffer, Window and Tabpage handles (ext 0, 1, 2) arrive so and go back to Neovim
 * as the same handles. Only the timestamp (-1) and types registered with `registerType`
 * decode into values; msgpackr's own structured-clone and JS-specific extensions (bigint,
 * Error, Set, typed arrays, references) are not honoured from the wire.
 *
 * Importing this module installs the opaque codec into msgpackr (its extension table is
 * process-wide); the msgpack-rpc codec imports it before it installs registered types.
 *
 * @module
 */

import { addExtension } from "msgpackr";

/**
 * A msgpack extension value Switchboard does not interpret.
 *
 * @example A Neovim buffer handle, as it arrives and as it is sent back
 * ```ts
 * import assert from "node:assert/strict";
 * import { pack, unpack } from "./codec.ts";
 * import { MsgpackExtension } from "./extension.ts";
 *
 * const buffer = new MsgpackExtension(0, new Uint8Array([1]));
 * const bytes = pack(buffer);
 * assert.deepEqual([...bytes], [0xd4, 0x00, 0x01]);
 * assert.deepEqual(unpack(bytes), buffer);
 * ```
 */
export class MsgpackExtension {
  /** The extension type, -128..127. */
  readonly type: number;
  /** The payload, as it came. */
  readonly data: Uint8Array;

  /** An extension value of `type` carrying `data`. */
  constructor(type: number, data: Uint8Array) {
    if (!Number.isInteger(type) || type < -128 || type > 127) {
      throw new RangeError(`msgpack extension type must be -128..127, got ${type}`);
    }
    this.type = type;
    this.data = data;
  }
}

/** The msgpack header of an extension with `length` bytes of payload. */
function header(type: number, length: number): number[] {
  const t = type & 0xff;
  switch (length) {
    case 1:
      return [0xd4, t];
    case 2:
      return [0xd5, t];
    case 4:
      return [0xd6, t];
    case 8:
      return [0xd7, t];
    case 16:
      return [0xd8, t];
  }
  if (length <= 0xff) return [0xc7, length, t];
  if (length <= 0xffff) return [0xc8, length >> 8, length & 0xff, t];
  return [0xc9, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff, t];
}

type Allocate = (size: number) => { target: Uint8Array; position: number };

// Packing: the whole extension (header and payload) is written where msgpackr asks; the
// `type` here only names a slot, which the opaque decoders below take over again.
addExtension(
  {
    Class: MsgpackExtension,
    type: 0x7f,
    pack(value: MsgpackExtension, allocate: Allocate): undefined {
      const head = header(value.type, value.data.byteLength);
      const { target, position } = allocate(head.length + value.data.byteLength);
      target.set(head, position);
      target.set(value.data, position + head.length);
      return undefined;
    },
  } as unknown as Parameters<typeof addExtension>[0],
);

/** Types decoded into values rather than kept opaque: the timestamp (-1). */
const TIMESTAMP_SLOT = 0xff;

// Decoding: every slot but the timestamp's gets the opaque decoder (slots are the type's
// unsigned byte); `registerType` later takes its own slots back.
for (let slot = 0; slot < 0x100; slot++) {
  if (slot === TIMESTAMP_SLOT) continue;
  const type = slot > 0x7f ? slot - 0x100 : slot;
  addExtension(
    {
      type: slot,
      // Copied: the payload must not alias the (reused) receive buffer.
      unpack: (data: Uint8Array) => new MsgpackExtension(type, data.slice()),
    } as unknown as Parameters<typeof addExtension>[0],
  );
}
