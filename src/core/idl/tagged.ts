/**
 * Tagged JSON: how values JSON cannot carry (datetimes, bytes) travel in JSON-RPC.
 * A datetime is `{"$date": "<ISO 8601>"}`, bytes are `{"$bytes": "<base64>"}`, and an
 * instance of a registered class (see `translators.ts`) is
 * `{"$type": "<name>", "value": <encoded>}`.
 * Typed parameters also accept the bare ISO string / base64 string, so plain JSON-RPC
 * clients can call methods that take them.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "../base64.ts";
import { translatorNamed, translatorOf } from "./translators.ts";

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
 * Thrown by {@linkcode reviveTagged} for a number that is not finite: in JSON a number beyond a
 * double (`1e400`) parses as `Infinity`, which JSON would write back as `null`; `t.float` refuses
 * such numbers alike.
 */
export class NotFiniteError extends Error {
  override name = "NotFiniteError";
}

function notFinite(value: number): never {
  throw new NotFiniteError(
    `holds ${value}, a number beyond the range of a double (a JSON number such as 1e400)`,
  );
}

/** Thrown by {@linkcode reviveTagged} when a registered type cannot decode its value. */
export class BadTagError extends Error {
  override name = "BadTagError";
}

/** The registered type a `{"$type", "value"}` tag names, if `record` is such a tag. */
function typeTag(record: Record<string, unknown>) {
  if (typeof record.$type !== "string" || !("value" in record)) return undefined;
  let keys = 0;
  for (const _ in record) keys++;
  return keys === 2 ? translatorNamed(record.$type) : undefined;
}

/**
 * How many containers one untyped value may hold. Decoded wire values are trees no larger
 * than their bytes; values that crossed no wire (in-process calls, structured clones from a
 * worker) may share sub-values, and a few hundred shared ones make billions of paths. The
 * walk counts every container it enters, so its work stays bounded either way.
 */
export const MAX_NODES = 1_000_000;

/** Thrown by {@linkcode reviveTagged} when a value holds more than {@linkcode MAX_NODES} containers. */
export class TooLargeError extends Error {
  override name = "TooLargeError";
}

let nodesLeft = MAX_NODES;
/** Set during a walk: a registered type's `decode` that validates again shares its budget. */
let walking = false;

/**
 * Replaces tags anywhere in a parsed JSON value by the values they stand for.
 * Mutates containers in place; refuses values nested deeper than `MAX_DEPTH`, holding
 * more than `MAX_NODES` containers, or holding a number that is not finite.
 */
export function reviveTagged(value: unknown): unknown {
  if (value === null || typeof value !== "object") {
    // `x - x` is 0 for every finite number, NaN for the others.
    return typeof value === "number" && value - value !== 0 ? notFinite(value) : value;
  }
  if (walking) return revive(value, 0);
  nodesLeft = MAX_NODES;
  walking = true;
  try {
    return revive(value, 0);
  } finally {
    walking = false;
  }
}

function revive(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") {
    return typeof value === "number" && value - value !== 0 ? notFinite(value) : value;
  }
  if (depth >= MAX_DEPTH) throw new TooDeepError(`value nests deeper than ${MAX_DEPTH} levels`);
  if (--nodesLeft < 0) {
    throw new TooLargeError(`value holds more than ${MAX_NODES} arrays and objects`);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i], depth + 1);
    return value;
  }
  // Class instances (dates, bytes, decoded registered types) are values, not containers.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const record = value as Record<string, unknown>;
  const revived = untag(record);
  if (revived !== undefined) return revived;
  const type = typeTag(record);
  if (type) {
    const inner = revive(record.value, depth + 1);
    try {
      return type.decode(inner);
    } catch (error) {
      throw new BadTagError(
        `cannot decode a ${type.name}: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
  for (const k in record) record[k] = revive(record[k], depth + 1);
  return record;
}

/** A `JSON.stringify` replacer that writes datetimes, bytes and registered types as tags. */
export function taggingReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Date) return { $date: raw.toISOString() };
  if (raw instanceof Uint8Array) return { $bytes: encodeBase64(raw) };
  if (typeof raw === "object" && raw !== null) {
    const type = translatorOf(raw);
    if (type) return { $type: type.name, value: type.encode(raw) };
  }
  if (typeof raw === "bigint") {
    return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw.toString();
  }
  return value;
}
