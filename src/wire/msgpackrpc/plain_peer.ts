/**
 * What a plain msgpack-rpc peer (one that did not say `$/hello`: Neovim, pynvim, any
 * spec-only client) needs in a different form than a Switchboard peer:
 *
 * - Errors go out as `[type, message]`, Neovim's own form: `type` is 0 (exception) or 1
 *   (validation: bad request, unknown method, bad params). Neovim shows the message of
 *   exactly this form (any other array or a map shows as "unknown error") and pynvim raises
 *   `NvimError(message)`. The message starts with the error's name unless it already says
 *   it (`DivideByZero: cannot divide by zero`, `Method not found: X`). Switchboard peers
 *   keep `{ code, name, message, data? }`.
 * - Method names may arrive as msgpack bin (pynvim and older msgpack libraries send them
 *   so); they are read as UTF-8.
 * - A whole `t.float` result travels as a msgpack float 64 (`3.0`, not the int `3`).
 *
 * @module
 */

import type { ErrorShape } from "../../core/errors.ts";
import { readableMessage } from "../plain_error.ts";
import type { Call, Identity, Outcome } from "../../core/context.ts";
import type { MethodDef } from "../../core/idl/interface.ts";
import type { NullableType, OptionalType, Type } from "../../core/idl/types.ts";

/** Neovim's error types: `kErrorTypeException`, `kErrorTypeValidation`. */
const EXCEPTION = 0, VALIDATION = 1;

/** The `[type, message]` error a plain peer gets. */
export function plainError(error: ErrorShape): [number, string] {
  const type = error.code <= -32600 && error.code >= -32602 ? VALIDATION : EXCEPTION;
  return [type, readableMessage(error)];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A method name sent as str or as UTF-8 bin; undefined for anything else. */
export function methodName(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (!(value instanceof Uint8Array)) return undefined;
  try {
    return utf8.decode(value);
  } catch {
    return undefined;
  }
}

/**
 * A number that must travel as a msgpack float 64 even when it is whole (msgpack writers
 * pack `3.0` as the int `3`). The TCP transports wrap a `t.float` result in it.
 */
export class Float64 {
  /** The number. */
  readonly value: number;
  /** Wraps `value`. */
  constructor(value: number) {
    this.value = value;
  }
}

/**
 * Packs `[1, msgid, nil, <float 64>]`: `packed` is the same message packed with the int 0
 * as its result (one byte, 0x00, at the end), which is swapped for the float.
 */
export function withFloatResult(packed: Uint8Array, value: number): Uint8Array {
  const out = new Uint8Array(packed.byteLength + 8);
  out.set(packed.subarray(0, packed.byteLength - 1));
  const at = packed.byteLength - 1;
  out[at] = 0xcb;
  new DataView(out.buffer).setFloat64(at + 1, value);
  return out;
}

/** Finds a method's declaration (a `Router` is one). */
export interface ResultLookup {
  /** The method a caller reaches under a name, if any. */
  resolve(method: string, caller?: Identity): { readonly def: MethodDef } | undefined;
}

/** The outcome to send: a whole number declared `t.float` (or optional/nullable float) wrapped. */
export function floatOutcome(lookup: ResultLookup, call: Call, outcome: Outcome): Outcome {
  if (!outcome.ok || typeof outcome.value !== "number" || !Number.isInteger(outcome.value)) {
    return outcome;
  }
  const result = lookup.resolve(call.method, call.caller)?.def.result;
  return result && declaresFloat(result) ? floatOutcomeAlways(outcome) : outcome;
}

/** Whether a result type is `t.float`, optional or nullable or not. */
export function declaresFloat(result: Type): boolean {
  let type: Type | undefined = result;
  while (type?.kind === "optional" || type?.kind === "nullable") {
    type = (type as OptionalType | NullableType).inner;
  }
  return type?.kind === "float";
}

/** The outcome of a method declared to return a float: a whole number wrapped. */
export function floatOutcomeAlways(outcome: Outcome): Outcome {
  if (!outcome.ok || typeof outcome.value !== "number" || !Number.isInteger(outcome.value)) {
    return outcome;
  }
  return { ok: true, value: new Float64(outcome.value) };
}
