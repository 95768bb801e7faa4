/**
 * A number that must travel as a msgpack float 64 even when it is whole: msgpack writers
 * pack `3.0` as the int `3` and `-0` as `0`, which Vim script and Python then read as
 * integers. The codec wraps the whole numbers at `t.float` places of a result or of a typed
 * call's params (see `src/core/idl/floats.ts`); the packer writes a wrapped number as
 * `0xcb` and its eight bytes, at any depth.
 *
 * @module
 */

import type { addExtension as AddExtension } from "msgpackr/pack";
import type { Fields, Type } from "../../core/idl/types.ts";
import { paramFloats, wholeFloats } from "../../core/idl/floats.ts";

/** A number packed as a msgpack float 64, whole or not. */
export class Float64 {
  /** The number. */
  readonly value: number;
  /** Wraps `value`. */
  constructor(value: number) {
    this.value = value;
  }
}

const wrap = (n: number) => new Float64(n);

/** A result of type `type` with its whole `t.float` numbers wrapped. */
export function floatResult(type: Type, value: unknown): unknown {
  return wholeFloats(type, value, wrap);
}

/** A typed call's params with their whole `t.float` numbers wrapped. */
export function floatParams(declared: Fields, params: unknown): unknown {
  return paramFloats(declared, params, wrap);
}

interface Target {
  target: Uint8Array;
  targetView: DataView;
  position: number;
}

/**
 * Teaches msgpackr (its extension table is global) to write a {@linkcode Float64} in place
 * as a float 64, with no extension header. `type` only satisfies msgpackr, which insists on
 * one and registers `unpack` for it: the caller passes the type and reader that type already
 * has, so decoding is unchanged.
 */
export function installFloat64(
  addExtension: typeof AddExtension,
  type: number,
  unpack: (data: Uint8Array) => unknown,
): void {
  addExtension(
    {
      Class: Float64,
      type,
      pack(value: object, allocate: (size: number) => Target) {
        const { target, targetView, position } = allocate(9);
        target[position] = 0xcb;
        targetView.setFloat64(position + 1, (value as Float64).value);
        return undefined as unknown as Uint8Array; // written in place
      },
      unpack,
    } as unknown as Parameters<typeof AddExtension>[0],
  );
}
