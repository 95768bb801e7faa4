/**
 * Value translators: application classes that travel as themselves. Register a class
 * once per process, on both sides, with how to encode it to a value the wire formats
 * carry and how to rebuild it; then instances may appear anywhere in untyped (`t.any`)
 * params and results:
 *
 * - in JSON-RPC as the tag `{"$type": "<name>", "value": <encoded>}`;
 * - in msgpack-rpc as an extension type (its payload is the msgpack of the encoded
 *   value), so the frame stays valid msgpack for every decoder.
 *
 * Datetimes and bytes need no registration: every codec carries them natively.
 *
 * @module
 */

/** A class with how to encode and decode its instances. */
export interface TypeTranslator<T extends object = object> {
  /** The name on the wire (the JSON tag); the same on both sides. */
  readonly name: string;
  /** The class; its instances (and its subclasses') are translated. */
  // deno-lint-ignore no-explicit-any
  readonly class: abstract new (...args: any[]) => T;
  /** To a value the codecs carry (JSON values, datetimes, bytes, other registered types). */
  encode(value: T): unknown;
  /** Back from what `encode` produced. */
  decode(data: unknown): T;
  /**
   * The msgpack extension type (1–127, not one msgpackr uses itself); by default derived
   * from `name` so both sides agree without coordination.
   */
  readonly ext?: number;
}

/** A registered translator: its extension type is settled. */
export interface RegisteredType<T extends object = object> extends TypeTranslator<T> {
  /** The msgpack extension type in use. */
  readonly ext: number;
}

/** Extension types msgpackr decodes itself (0 = undefined, 0x42 = bigint, …). */
export const RESERVED_EXT_TYPES: readonly number[] = [
  0,
  0x42,
  0x62,
  0x65,
  0x69,
  0x70,
  0x73,
  0x74,
  0x78,
];

const byName = new Map<string, RegisteredType>();
const byClass = new Map<unknown, RegisteredType>();
const byExt = new Map<number, RegisteredType>();
const listeners = new Set<(type: RegisteredType) => void>();

/** A stable extension type for a name, in 1..63 (below every type msgpackr reserves). */
function extFor(name: string): number {
  let hash = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return ((hash >>> 0) % 63) + 1;
}

/**
 * Registers a class for translation, process-wide; register the same on both sides.
 * Registering the same class under the same name again is a no-op.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { registerType } from "@switchboard/rpc";
 *
 * class Money {
 *   constructor(readonly cents: bigint, readonly currency: string) {}
 * }
 * const money = registerType({
 *   name: "Money",
 *   class: Money,
 *   encode: (m) => ({ cents: m.cents.toString(), currency: m.currency }),
 *   decode: (d) => {
 *     const { cents, currency } = d as { cents: string; currency: string };
 *     return new Money(BigInt(cents), currency);
 *   },
 * });
 * assert.equal(money.name, "Money");
 * assert.ok(money.ext >= 1 && money.ext <= 63);
 * ```
 */
export function registerType<T extends object>(type: TypeTranslator<T>): RegisteredType<T> {
  if (typeof type.name !== "string" || !type.name) {
    throw new TypeError("registerType: name must be a non-empty string");
  }
  if (typeof type.class !== "function") {
    throw new TypeError(`registerType(${type.name}): class must be a class`);
  }
  if (typeof type.encode !== "function" || typeof type.decode !== "function") {
    throw new TypeError(`registerType(${type.name}): encode and decode must be functions`);
  }
  const known = byName.get(type.name);
  if (known) {
    if (isRegistrationOf(known, type) && (type.ext === undefined || type.ext === known.ext)) {
      return known;
    }
    throw new TypeError(`registerType: the name ${type.name} is already registered`);
  }
  if (byClass.has(type.class)) {
    throw new TypeError(
      `registerType(${type.name}): the class is already registered as ${
        byClass.get(type.class)!.name
      }`,
    );
  }
  const ext = type.ext ?? extFor(type.name);
  if (!Number.isInteger(ext) || ext < 1 || ext > 127 || RESERVED_EXT_TYPES.includes(ext)) {
    throw new TypeError(
      `registerType(${type.name}): ext must be an integer in 1..127 other than ${
        RESERVED_EXT_TYPES.slice(1).join(", ")
      }, got ${ext}`,
    );
  }
  const clash = byExt.get(ext);
  if (clash) {
    throw new TypeError(
      `registerType(${type.name}): msgpack extension type ${ext} is taken by ${clash.name}; ` +
        `pass another ext explicitly (the same on both sides)`,
    );
  }
  const registered: RegisteredType<T> = Object.freeze({ ...type, ext });
  byName.set(type.name, registered);
  byClass.set(type.class, registered);
  byExt.set(ext, registered);
  for (const listener of listeners) listener(registered);
  return registered;
}

/** Whether `known` was registered for the class of `type` (so it translates `T`). */
function isRegistrationOf<T extends object>(
  known: RegisteredType,
  type: TypeTranslator<T>,
): known is RegisteredType<T> {
  return known.class === type.class;
}

/** The translator of a value's class (or nearest registered base class), if any. */
export function translatorOf(value: object): RegisteredType | undefined {
  if (byClass.size === 0) return undefined;
  for (
    let proto = Object.getPrototypeOf(value);
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const type = byClass.get(proto.constructor);
    if (type) return type;
  }
  return undefined;
}

/** The translator registered under a name. */
export function translatorNamed(name: string): RegisteredType | undefined {
  return byName.get(name);
}

/**
 * Calls `listener` for every translator registered so far and every later one (codecs
 * use it to install their extensions). Returns a function that stops the calls.
 */
export function onTypeRegistered(listener: (type: RegisteredType) => void): () => void {
  for (const type of byName.values()) listener(type);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** What {@linkcode installMsgpackExtensions} needs from a msgpack library (msgpackr's shape). */
export interface MsgpackExtensionHost {
  /** msgpackr's `addExtension`. */
  addExtension(extension: {
    // deno-lint-ignore no-explicit-any
    Class: abstract new (...args: any[]) => object;
    type: number;
    pack(value: object): Uint8Array;
    unpack(data: Uint8Array): unknown;
  }): void;
  /** Encodes a value (the codec's own packer, so nested registered types work). */
  pack(value: unknown): Uint8Array;
  /** Decodes a value. */
  unpack(data: Uint8Array): unknown;
}

const installed = new WeakSet<MsgpackExtensionHost["addExtension"]>();

/**
 * Makes a msgpack library carry registered types as extension types: now and for every
 * type registered later. The msgpack-rpc codec calls it once with msgpackr's
 * `addExtension` and its own `pack`/`unpack`; calling it again with the same
 * `addExtension` does nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addExtension, Packr, Unpackr } from "msgpackr";
 * import { installMsgpackExtensions } from "@switchboard/rpc/server";
 * import { registerType } from "@switchboard/rpc";
 *
 * class Point {
 *   constructor(readonly x: number, readonly y: number) {}
 * }
 * registerType({
 *   name: "example.Point",
 *   class: Point,
 *   encode: (p) => [p.x, p.y],
 *   decode: (d) => new Point(...(d as [number, number])),
 * });
 * const packr = new Packr({ useRecords: false });
 * const unpackr = new Unpackr({ useRecords: false });
 * installMsgpackExtensions({
 *   addExtension,
 *   pack: (v) => packr.pack(v),
 *   unpack: (b) => unpackr.unpack(b),
 * });
 * const back = unpackr.unpack(packr.pack({ at: new Point(1, 2) })) as { at: Point };
 * assert.ok(back.at instanceof Point);
 * assert.equal(back.at.y, 2);
 * ```
 */
export function installMsgpackExtensions(host: MsgpackExtensionHost): void {
  if (installed.has(host.addExtension)) return;
  installed.add(host.addExtension);
  onTypeRegistered((type) =>
    host.addExtension({
      Class: type.class,
      type: type.ext,
      pack: (value) => host.pack(type.encode(value)),
      unpack: (data) => type.decode(host.unpack(data)),
    })
  );
}
