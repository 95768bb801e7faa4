/**
 * JSON numbers where the IDL declares `t.float`: a whole number is written `1.0` and `-0`
 * as `-0.0` (JSON text the spec allows), not `1` and `0`, so that peers which keep the kind
 * (Python's `json`, Ruby's) read a float. Uses `JSON.rawJSON` (ES2025); where the runtime
 * lacks it, numbers are written as `JSON.stringify` writes them.
 *
 * @module
 */

import { paramFloats, wholeFloats } from "../../core/idl/floats.ts";
import type { Fields, Type } from "../../core/idl/types.ts";

const rawJSON = (JSON as { rawJSON?: (text: string) => unknown }).rawJSON;

/** `1.0` for 1, `-0.0` for -0; a number whose text has an exponent already reads as a float. */
function floatText(n: number): unknown {
  if (Object.is(n, -0)) return rawJSON!("-0.0");
  const text = String(n);
  return text.includes("e") ? n : rawJSON!(`${text}.0`);
}

/** A result of type `type` with its whole `t.float` numbers as float text. */
export function jsonFloats(type: Type, value: unknown): unknown {
  return rawJSON ? wholeFloats(type, value, floatText) : value;
}

/** A typed call's params with their whole `t.float` numbers as float text. */
export function jsonParamFloats(declared: Fields, params: unknown): unknown {
  return rawJSON ? paramFloats(declared, params, floatText) : params;
}
