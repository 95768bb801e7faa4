/**
 * Maps whose keys msgpackr would change: it renames the key `__proto__` to `__proto_` (so
 * that an assignment cannot reach `Object.prototype`), and a peer's map then comes back with
 * another key than it sent. A message holding that key is decoded with maps as `Map`s and
 * turned into plain objects whose every key is an own property, as `JSON.parse` makes them.
 *
 * @module
 */

import { Unpackr } from "msgpackr/pack";

/** The decoder of those messages: as `packer.ts`'s, but maps as `Map`s. */
const mapUnpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: false,
  copyBuffers: true,
  int64AsType: "auto" as "bigint",
  ...{ structuredClone: false },
});

/**
 * Decodes one msgpack value, every map as a plain object with its keys as sent (`__proto__`
 * included, as an own property). Map keys become strings as msgpackr makes them (numbers,
 * booleans and nil by `String`); any other key is an error, as it is for msgpackr.
 */
export function unpackOwnKeys(bytes: Uint8Array): unknown {
  return plainObjects(mapUnpackr.unpack(bytes));
}

function plainObjects(value: unknown): unknown {
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [key, item] of value) {
      // A data property even for `__proto__`: assignment would set the prototype instead.
      Object.defineProperty(object, keyOf(key), {
        value: plainObjects(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return object;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = plainObjects(value[i]);
  }
  return value;
}

function keyOf(key: unknown): string {
  if (typeof key === "string") return key;
  if (
    typeof key === "number" || typeof key === "boolean" || typeof key === "bigint" ||
    key == null
  ) return String(key);
  throw new TypeError(`a map key must be a string or a number, got ${typeof key}`);
}
