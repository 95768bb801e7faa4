/**
 * msgpack has its own bytes (bin), but Neovim sends every Lua string as a str, binary ones
 * too (`"\0\255\254abc"`). So a str where the IDL declares `t.bytes` is taken as the bytes
 * it holds on the wire, read from the message's own bytes: decoding made a JavaScript
 * string of it first, where bytes that are not UTF-8 became U+FFFD. It is never
 * base64-decoded: base64 strings are how JSON carries bytes, and only JSON-RPC revives them.
 * The TCP transports pass params through {@linkcode strBytesOf} before the router checks
 * them.
 *
 * @module
 */

import type { Identity } from "../../core/context.ts";
import { COMPLETE, type Header, readHeader } from "./header.ts";
import type { MethodDef } from "../../core/idl/interface.ts";
import type { Fields, StructType, Type } from "../../core/idl/types.ts";
import { isSimple, unknownKind } from "../../core/idl/kinds.ts";

/** Finds a method's declaration (a `Router` is one). */
export interface ParamsLookup {
  /** The method a caller reaches under a name, if any. */
  resolve(method: string, caller?: Identity): { readonly def: MethodDef } | undefined;
}

const utf8 = new TextEncoder();
/** Whether a type has `t.bytes` anywhere inside (cached: most methods have none). */
const holdsBytes = new WeakMap<Type | Fields, boolean>();

/** Whether any of `fields` is (or holds) `t.bytes` (remembered per fields object). */
export function fieldsHoldBytes(fields: Fields): boolean {
  let known = holdsBytes.get(fields);
  if (known === undefined) {
    holdsBytes.set(fields, false); // recursive structs end here
    known = Object.values(fields).some(typeHoldsBytes);
    holdsBytes.set(fields, known);
  }
  return known;
}

function typeHoldsBytes(type: Type): boolean {
  if (isSimple(type)) return type.kind === "bytes";
  switch (type.kind) {
    case "array":
      return typeHoldsBytes(type.items);
    case "map":
      return typeHoldsBytes(type.values);
    case "optional":
    case "nullable":
      return typeHoldsBytes(type.inner);
    case "struct":
      return fieldsHoldBytes(type.fields);
    // A streamed param's items are not converted (a plain peer sends them as one array).
    case "literal":
    case "stream":
      return false;
    default:
      return unknownKind(type, false);
  }
}

/** `value` with every str at a `t.bytes` position replaced by its UTF-8 bytes. */
function convert(type: Type, value: unknown): unknown {
  if (isSimple(type)) {
    return type.kind === "bytes" && typeof value === "string" ? utf8.encode(value) : value;
  }
  switch (type.kind) {
    case "optional":
    case "nullable":
      return convert(type.inner, value);
    case "array": {
      if (!Array.isArray(value)) return value;
      const items = type.items;
      if (!typeHoldsBytes(items)) return value;
      return value.map((item) => convert(items, item));
    }
    case "map": {
      const values = type.values;
      if (!isRecord(value) || !typeHoldsBytes(values)) return value;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) out[key] = convert(values, value[key]);
      return out;
    }
    case "struct":
      return convertFields(type.fields, value);
    case "literal":
    case "stream":
      return value;
    default:
      return unknownKind(type, value);
  }
}

function convertFields(fields: Fields, value: unknown): unknown {
  if (!isRecord(value) || !fieldsHoldBytes(fields)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const name of Object.keys(fields)) {
    if (Object.hasOwn(value, name)) out[name] = convert(fields[name], value[name]);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array) && !(value instanceof Date);
}

/**
 * The params of a msgpack-rpc call with str values at `t.bytes` positions as bytes (by
 * position or by name); the params themselves when the method declares no bytes. `source`
 * (the `Session`): where the message's bytes are, read for each str's own bytes; without
 * it, a str is taken as the UTF-8 of its decoded text.
 */
export function strBytesParams(
  lookup: ParamsLookup,
  method: string,
  params: unknown,
  caller?: Identity,
  source?: FrameSource,
): unknown {
  const fields = lookup.resolve(method, caller)?.def.params;
  return fields ? strBytesOf(fields, params, source) : params;
}

/** Where the bytes of the message being handled are (a `Session`; read only when needed). */
export interface FrameSource {
  /** The message's bytes, as they came. */
  readonly frame: Uint8Array;
}

/** {@linkcode strBytesParams} for a method whose declared params are already at hand. */
export function strBytesOf(fields: Fields, params: unknown, source?: FrameSource): unknown {
  if (!fieldsHoldBytes(fields)) return params;
  if (source) {
    try {
      const wire = paramsOf(source.frame);
      if (wire) return rawParams(fields, params, wire);
    } catch {
      // A frame that does not match its decoded message: the decoded text below.
    }
  }
  if (!Array.isArray(params)) return convertFields(fields, params);
  const names = Object.keys(fields);
  return params.map((param, i) => i < names.length ? convert(fields[names[i]], param) : param);
}

/** A read position in a message's bytes, one value at a time (no decoding). */
class Wire {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  readonly header: Header = { head: 0, body: 0, items: 0 };
  pos = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Reads the header of the value at `pos` (into `header`); its type byte. */
  peek(): number {
    if (
      readHeader(this.bytes, this.#view, this.pos, this.bytes.byteLength, this.header) !== COMPLETE
    ) {
      throw new RangeError("truncated value");
    }
    return this.bytes[this.pos];
  }

  /** Moves past the value at `pos`, nested values included. */
  skip(): void {
    for (let count = 1; count > 0; count--) {
      this.peek();
      this.pos += this.header.head + this.header.body;
      count += this.header.items;
      if (this.pos > this.bytes.byteLength) throw new RangeError("truncated value");
    }
  }

  /** The body of the str at `pos` (a copy: the frame's buffer is reused), moving past it. */
  takeStr(): Uint8Array {
    const start = this.pos + this.header.head, end = start + this.header.body;
    if (end > this.bytes.byteLength) throw new RangeError("truncated value");
    this.pos = end;
    return this.bytes.slice(start, end);
  }
}

function isStr(b: number): boolean {
  return (b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb;
}
function isArray(b: number): boolean {
  return (b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd;
}
function isMap(b: number): boolean {
  return (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
}

/** The position of a request's or notification's params: `[0, id, m, PARAMS…]`, `[2, m, PARAMS]`. */
function paramsOf(frame: Uint8Array): Wire | undefined {
  const wire = new Wire(frame);
  if (!isArray(wire.peek())) return undefined;
  wire.pos += wire.header.head;
  const type = wire.bytes[wire.pos];
  if (type !== 0 && type !== 2) return undefined;
  for (let skipped = type === 0 ? 3 : 2; skipped > 0; skipped--) wire.skip();
  return wire;
}

const keyText = new TextDecoder();

/** Params (by position or name) with strs at `t.bytes` places taken from `wire`. */
function rawParams(fields: Fields, params: unknown, wire: Wire): unknown {
  if (!Array.isArray(params)) {
    const named: StructType = { kind: "struct", name: "params", fields };
    return rawValue(named, params, wire);
  }
  const b = wire.peek();
  if (!isArray(b) || wire.header.items !== params.length) throw new RangeError("not the params");
  wire.pos += wire.header.head;
  const types = Object.values(fields);
  return params.map((param, i) => {
    if (i < types.length && typeHoldsBytes(types[i])) return rawValue(types[i], param, wire);
    wire.skip();
    return param;
  });
}

/**
 * The decoded `value` of type `type` whose bytes start at `wire.pos`, with each str at a
 * `t.bytes` place as the bytes it holds; moves past the value. Where the bytes and the
 * value disagree in shape, the value is converted from its decoded text.
 */
function rawValue(type: Type, value: unknown, wire: Wire): unknown {
  const b = wire.peek();
  if (isSimple(type)) {
    if (type.kind === "bytes" && typeof value === "string" && isStr(b)) return wire.takeStr();
  } else {
    switch (type.kind) {
      case "optional":
      case "nullable":
        return rawValue(type.inner, value, wire);
      case "array": {
        const items = type.items;
        if (!Array.isArray(value) || !isArray(b) || wire.header.items !== value.length) break;
        if (!typeHoldsBytes(items)) break;
        wire.pos += wire.header.head;
        return value.map((item) => rawValue(items, item, wire));
      }
      case "map":
      case "struct": {
        if (!isRecord(value) || !isMap(b) || !typeHoldsBytes(type)) break;
        const values = type.kind === "map" ? type.values : undefined;
        const fields = type.kind === "struct" ? type.fields : undefined;
        const entries = wire.header.items / 2;
        wire.pos += wire.header.head;
        // Converted from the decoded text first: a member whose key reads differently here
        // than in the decoder still arrives as bytes.
        const out = convert(type, value) as Record<string, unknown>;
        for (let i = 0; i < entries; i++) {
          let name: string | undefined;
          if (isStr(wire.peek())) name = keyText.decode(wire.takeStr());
          else wire.skip();
          const itemType = name === undefined
            ? undefined
            : values ?? (Object.hasOwn(fields!, name) ? fields![name] : undefined);
          if (itemType && Object.hasOwn(value, name!) && typeHoldsBytes(itemType)) {
            out[name!] = rawValue(itemType, value[name!], wire);
          } else wire.skip();
        }
        return out;
      }
      case "literal":
      case "stream":
        break;
      default:
        // A kind the IDL does not know holds no bytes: its value as decoded.
        wire.skip();
        return unknownKind(type, value);
    }
  }
  wire.skip();
  return convert(type, value);
}
