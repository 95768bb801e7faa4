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
 * - A typed proxy's params go by position, in the order the IDL declares them: the spec's
 *   params are an array, and Neovim, msgpack5rpc or pynvim read one map as one param.
 *
 * @module
 */

import type { ErrorShape } from "../../core/errors.ts";
import type { Fields } from "../../core/idl/types.ts";
import { namesOnlyDeclared, toPositional } from "../../core/idl/positional.ts";
import { readableMessage } from "../plain_error.ts";
import { floatParams } from "./float64.ts";

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
 * The params of a call as they go out. A typed call's (`declared`) go to a plain peer by
 * position, unless they name an undeclared param (then as they are, for the peer to refuse);
 * a Switchboard peer keeps them by name. Whole numbers at `t.float` places go as floats to
 * every peer.
 */
export function outgoingParams(
  params: unknown,
  declared: Fields | undefined,
  plain: boolean,
): unknown {
  if (!declared) return params;
  const sent = plain && namesOnlyDeclared(params, declared)
    ? toPositional(params, declared).values
    : params;
  return floatParams(declared, sent);
}
