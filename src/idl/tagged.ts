/**
 * Tagged JSON: how values JSON cannot carry (datetimes, bytes) travel in JSON-RPC.
 * A datetime is `{"$date": "<ISO 8601>"}`, bytes are `{"$bytes": "<base64>"}`.
 * Typed parameters also accept the bare ISO string / base64 string, so plain JSON-RPC
 * clients can call methods that take them.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "../util/base64.ts";

/** How deep an untyped value may nest before it is refused (protects every recursive walk). */
export const MAX_DEPTH = 64;

/** Returns the revived value if `value` is a `$date`/`$bytes` tag, otherwise `undefined`. */
export function untag(value: Record<string, unknown>): Date | Uint8Array | undefined {
  let key: string | undefined;
  for (const k in value) {
    if (key !== undefined) return undefined;
    key = k;
  }
  if (key === "$date" && typeof value.$date === "string") {
    const date = new Date(value.$date);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  if (key === "$bytes" && typeof value.$bytes === "string") {
    try {
      return decodeBase64(value.$bytes);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Thrown by {@linkcode reviveTagged} when a value nests deeper than {@linkcode MAX_DEPTH}. */
export class TooDeepError extends Error {
  override name = "TooDeepError";
}

/**
 * Replaces tags anywhere in a parsed JSON value by the values they stand for.
 * Mutates containers in place; refuses values nested deeper than `MAX_DEPTH`.
 */
export function reviveTagged(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) throw new TooDeepError(`value nests deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveTagged(value[i], depth + 1);
    return value;
  }
  if (value instanceof Date || value instanceof Uint8Array) return value;
  const record = value as Record<string, unknown>;
  const revived = untag(record);
  if (revived !== undefined) return revived;
  for (const k in record) record[k] = reviveTagged(record[k], depth + 1);
  return record;
}

/** A `JSON.stringify` replacer that writes datetimes and bytes as tags. */
export function taggingReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Date) return { $date: raw.toISOString() };
  if (raw instanceof Uint8Array) return { $bytes: encodeBase64(raw) };
  if (typeof raw === "bigint") {
    return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw.toString();
  }
  return value;
}
