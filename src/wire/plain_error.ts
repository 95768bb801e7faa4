/**
 * The one line a plain peer (a client or server that is not Switchboard) shows for an
 * error: its message, after the error's name where the peer could not tell it otherwise
 * (`NotFound: no such user`, but `Method not found: X` as it is).
 *
 * @module
 */

import { type ErrorShape, nameOfCode } from "../core/errors.ts";

/**
 * `Name: message`, unless the message already starts with the name in words or (when the
 * code travels too, `codeTravels`) the code implies the name.
 */
export function readableMessage(error: ErrorShape, codeTravels = false): string {
  if (codeTravels && nameOfCode(error.code) === error.name) return error.message;
  const colon = error.message.indexOf(":");
  const head = (colon < 0 ? error.message : error.message.slice(0, colon)).replace(/\s+/g, "");
  if (head.toLowerCase() === error.name.toLowerCase()) return error.message;
  return `${error.name}: ${error.message}`;
}
