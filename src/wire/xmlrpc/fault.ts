/**
 * XML-RPC faults as text: what every XML-RPC error answer is made of. A file of its own,
 * with no XML parser behind it, so the HTTP transport can answer an XML-RPC request with a
 * fault (413, 503, 408) without loading the reader.
 *
 * @module
 */

import { type ErrorShape, errorShape, nameOfCode } from "../../core/errors.ts";
import { writeUntyped } from "./writer.ts";
import { readableMessage } from "../plain_error.ts";

const HEAD = '<?xml version="1.0"?>\n';

/**
 * The fault struct of an error: `faultCode` and `faultString`, and for a Switchboard client
 * (`named`) the unprefixed message with `faultName` and `faultData`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { faultStruct } from "@switchboard/rpc/xmlrpc";
 *
 * const error = { code: -32000, name: "NotFound", message: "no such user", data: { id: 4 } };
 * assert.deepEqual(faultStruct(error), {
 *   faultCode: -32000,
 *   faultString: "NotFound: no such user",
 * });
 * assert.deepEqual(faultStruct(error, true), {
 *   faultCode: -32000,
 *   faultString: "no such user",
 *   faultName: "NotFound",
 *   faultData: { id: 4 },
 * });
 * ```
 */
export function faultStruct(error: ErrorShape, named = false): Record<string, unknown> {
  const code = Number.isInteger(error.code) && Math.abs(error.code) < 2 ** 31 ? error.code : -32603;
  // XML cannot carry a lone surrogate, and a message may quote anything a caller sent (or
  // be cut inside a pair): a fault is always writable, with U+FFFD in its place.
  if (!named) {
    return { faultCode: code, faultString: readableMessage(error, true).toWellFormed() };
  }
  const fault: Record<string, unknown> = {
    faultCode: code,
    faultString: error.message.toWellFormed(),
  };
  if (error.name !== nameOfCode(code)) fault.faultName = error.name.toWellFormed();
  if (error.data !== undefined) fault.faultData = error.data;
  return fault;
}

/**
 * The `<value>` of a fault struct (a fault response's, or a multicall entry's): data XML-RPC
 * cannot carry is dropped, not the fault.
 */
export function writeFault(error: ErrorShape, named = false, path = "fault", depth = 0): string {
  const fault = faultStruct(error, named);
  try {
    return writeUntyped(fault, path, depth);
  } catch {
    delete fault.faultData;
    return writeUntyped(fault, path, depth);
  }
}

/** Encodes a fault `<methodResponse>`; `named` for a Switchboard client (see `faultStruct`). */
export function encodeFault(error: ErrorShape, named = false): string {
  return `${HEAD}<methodResponse><fault>${writeFault(error, named)}</fault></methodResponse>`;
}

/** The error of a result that XML-RPC cannot carry (a fault of its own call, not the request). */
export function cannotCarry(method: string, error: Error): ErrorShape {
  return errorShape(
    "InternalError",
    `Internal error: the result of ${method} cannot travel over XML-RPC: ${error.message}`,
  );
}
