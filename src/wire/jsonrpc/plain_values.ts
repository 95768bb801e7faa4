/**
 * JSON for third-party JSON-RPC servers: datetimes as bare ISO 8601 strings and bytes as
 * bare base64 strings, where Switchboard's own tags (`{"$date"}`, `{"$bytes"}`) would reach
 * the server's handler as objects it does not know. A Switchboard server accepts both forms
 * for typed params. Chosen per connection: `connect(url, { taggedValues: false })`.
 *
 * @module
 */

import { encodeBase64 } from "../../core/base64.ts";
import { taggingReplacer } from "../../core/idl/tagged.ts";

/** A `JSON.stringify` replacer writing datetimes and bytes as bare strings. */
export function plainReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Date) return raw.toISOString();
  if (raw instanceof Uint8Array) return encodeBase64(raw);
  return taggingReplacer.call(this, key, value);
}
