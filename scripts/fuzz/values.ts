/**
 * Random values and calls for the demo server (Calculator, Echo, introspection), from
 * valid ones to type-confused, deep, wide and oddly named ones. Protocol emitters turn
 * them into bytes; the marker classes carry what only one wire format can say.
 *
 * @module
 */

import type { Rng } from "./rng.ts";

/** Text a JSON emitter writes as is (numbers like 1e400, odd escapes, duplicate keys). */
export class RawText {
  /** Creates the marker. */
  constructor(readonly text: string) {}
}

/** A msgpack extension value (any type byte, any payload). */
export class Ext {
  /** Creates the marker. */
  constructor(readonly type: number, readonly data: Uint8Array) {}
}

/** A msgpack map with keys of any type (not only strings), in order, duplicates allowed. */
export class Entries {
  /** Creates the marker. */
  constructor(readonly entries: [unknown, unknown][]) {}
}

/** A call as the corpus describes it: method and params (named or positional). */
export interface CallSpec {
  method: string;
  params: unknown;
}

const STRINGS = [
  "",
  "a",
  "hello",
  "Ada",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "$date",
  "$bytes",
  "$/hello",
  "\u0000",
  "\ud800",
  "\udfff",
  "\ud83d\ude00",
  "\u202e",
  "\ufeff",
  "é",
  "null",
  "1",
  "-32700",
  "]]>",
  "<value>",
  "&amp;",
  '"',
  "\\",
  "\r\n",
  "1970-01-01",
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  2,
  3,
  0.5,
  127,
  128,
  255,
  256,
  32767,
  32768,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  -(2 ** 31),
  2 ** 53 - 1,
  2 ** 53,
  -(2 ** 53),
  2 ** 63,
  1e308,
  -1e308,
  5e-324,
  1e21,
];

/** A random string: a boundary string, random code units, or a long one. */
export function randomString(rng: Rng): string {
  switch (rng.chance(0.05) ? 2 : rng.pick([0, 1, 3])) {
    case 0:
      return rng.pick(STRINGS);
    case 1: {
      let s = "";
      const n = rng.size(32);
      for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(0x10000));
      return s;
    }
    case 2:
      return rng.pick(STRINGS).repeat(rng.size(2000) + 1);
    default: {
      let s = "";
      const n = rng.size(16);
      for (let i = 0; i < n; i++) s += String.fromCharCode(0x20 + rng.int(0x5f));
      return s;
    }
  }
}

/** A random number: a boundary value or a random double/int. */
export function randomNumber(rng: Rng): number {
  switch (rng.int(3)) {
    case 0:
      return rng.pick(NUMBERS);
    case 1:
      return rng.range(-1000, 1000);
    default:
      return (rng.u32() - 0x8000_0000) * 2 ** rng.int(40) / 3;
  }
}

/** What markers a value may contain (each wire format supports some). */
export interface ValueOptions {
  json?: boolean;
  msgpack?: boolean;
}

const BIG_JSON_NUMBERS = [
  "1e400",
  "-1e400",
  "123456789012345678901234567890",
  "0.0000000000000000000001",
  "1E2",
  "-0.0",
  "1e-400",
  "9007199254740993",
];

/** A random value, up to `depth` levels of containers. */
export function randomValue(rng: Rng, depth: number, options: ValueOptions = {}): unknown {
  const leaf = depth <= 0 || rng.chance(0.55);
  if (leaf) {
    switch (rng.int(options.msgpack ? 10 : options.json ? 8 : 7)) {
      case 0:
        return null;
      case 1:
        return rng.chance(0.5);
      case 2:
      case 3:
        return randomNumber(rng);
      case 4:
      case 5:
        return randomString(rng);
      case 6:
        return rng.chance(0.5) ? new Date(rng.u32() * 1000) : rng.bytes(rng.size(64));
      case 7:
        return options.json ? new RawText(rng.pick(BIG_JSON_NUMBERS)) : BigInt(rng.u32()) << 40n;
      case 8:
        return rng.chance(0.5) ? (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()) : -(2n ** 63n);
      default:
        return new Ext(
          rng.pick(EXT_TYPES),
          rng.bytes(rng.pick([0, 1, 2, 4, 8, 12, 16, rng.size(300)])),
        );
    }
  }
  const n = rng.size(8);
  switch (rng.int(options.msgpack ? 4 : 3)) {
    case 0: {
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(randomValue(rng, depth - 1, options));
      return out;
    }
    case 1: {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        Object.defineProperty(out, randomString(rng), {
          value: randomValue(rng, depth - 1, options),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    case 2: // tagged forms the JSON codec revives
      return rng.chance(0.5)
        ? { $date: rng.chance(0.5) ? "2024-02-30T00:00:00Z" : randomString(rng) }
        : { $bytes: rng.chance(0.5) ? "AAEC" : randomString(rng) };
    default: {
      const entries: [unknown, unknown][] = [];
      for (let i = 0; i < n; i++) {
        entries.push([randomValue(rng, depth - 1, options), randomValue(rng, depth - 1, options)]);
      }
      return new Entries(entries);
    }
  }
}

/** Extension types worth trying: msgpackr's own (structured clone, bundles, records), timestamps. */
export const EXT_TYPES = [
  0x69,
  0x70,
  0x62,
  0x65,
  0x73,
  0x74,
  0x78,
  0x42,
  0x72,
  0x00,
  0x01,
  0x7f,
  0xff,
  0xfe,
  0x80,
];

/** A value nested `depth` levels (arrays, or objects `{a: …}`); emitters write it flat. */
export class Deep {
  /** Creates the marker. */
  constructor(readonly depth: number, readonly objects: boolean) {}
}

/** A value nested `depth` levels (arrays or objects), for depth limits. */
export function deepValue(rng: Rng, depth: number): Deep {
  return new Deep(depth, rng.chance(0.5));
}

/** A wide value (many items or members), for size limits. */
export function wideValue(rng: Rng, width: number): unknown {
  if (rng.chance(0.5)) return new Array(width).fill(rng.chance(0.5) ? 1.5 : "x");
  const out: Record<string, unknown> = {};
  for (let i = 0; i < width; i++) out[`k${i}`] = i;
  return out;
}

const SAMPLE = {
  id: 1,
  name: "n",
  ratio: 0.5,
  ok: true,
  data: new Uint8Array([1, 2, 3]),
  at: new Date(0),
  tags: ["a"],
  attrs: { x: 1 },
  parent: null,
  level: "low",
};

/** Valid calls of every demo method (the seeds the mutators start from). */
export function validCalls(): CallSpec[] {
  return [
    { method: "Calculator.add", params: { a: 2, b: 3 } },
    { method: "Calculator.add", params: [2, 3] },
    { method: "Calculator.subtract", params: { a: 10, b: 4 } },
    { method: "Calculator.multiply", params: [1.5, 2] },
    { method: "Calculator.divide", params: { a: 1, b: 0 } },
    { method: "Calculator.divide", params: { a: 1, b: 4 } },
    { method: "Calculator.sum", params: { values: [1, 2.5, 3] } },
    { method: "Echo.echo", params: { text: "hello" } },
    { method: "Echo.reverse", params: ["abc"] },
    { method: "Echo.sample", params: { value: SAMPLE } },
    { method: "Echo.any", params: { value: [1, "two", { three: 3 }, null] } },
    { method: "Echo.now", params: [] },
    // Echo.sleep is left out: a mutated `ms` (2^31 - 1) sleeps for weeks by design.
    { method: "Echo.fail", params: { name: "NotFound", message: "no such thing" } },
    { method: "system.listMethods", params: [] },
    { method: "system.methodHelp", params: ["Calculator.add"] },
    { method: "system.methodSignature", params: ["Echo.sample"] },
    { method: "rpc.discover", params: [] },
  ];
}

const METHODS = [
  "",
  "Calculator",
  "Calculator.",
  ".add",
  "Calculator.add.extra",
  "Calculator.__proto__",
  "Calculator.constructor",
  "Echo.toString",
  "__proto__",
  "constructor",
  "system.multicall",
  "$/hello",
  "$/ping",
  "$/cancel",
  "$/subscribe",
  "$/publish",
  "$/auth.login",
  "echo.echo",
  "Calculator.add\u0000",
  "rpc.discover.x",
  "Echo.crash2",
];

/** A structural mutation of a valid call: params, types, names, depth, width. */
export function mutateCall(rng: Rng, call: CallSpec, options: ValueOptions = {}): CallSpec {
  const params = call.params;
  // Deep and wide values are costly to make and send: a few percent of the inputs.
  const roll = rng.int(100);
  switch (roll < 2 ? 4 : roll < 4 ? 5 : [0, 1, 2, 3, 6, 7, 8, 9][rng.int(8)]) {
    case 0:
      return { method: call.method, params: randomValue(rng, 3, options) };
    case 1: { // type confusion of one param
      const copy = Array.isArray(params) ? [...params] : { ...params as Record<string, unknown> };
      const keys = Object.keys(copy);
      const key = keys.length ? rng.pick(keys) : "x";
      (copy as Record<string, unknown>)[key] = randomValue(rng, 2, options);
      return { method: call.method, params: copy };
    }
    case 2: // an unknown or a dropped param
      return Array.isArray(params)
        ? { method: call.method, params: rng.chance(0.5) ? params.slice(1) : [...params, 1] }
        : { method: call.method, params: { ...params as object, [randomString(rng)]: 1 } };
    case 3:
      return { method: rng.chance(0.7) ? rng.pick(METHODS) : randomString(rng), params };
    case 4: // deep values where the IDL says any
      return { method: "Echo.any", params: { value: deepValue(rng, rng.size(100_000)) } };
    case 5:
      return {
        method: rng.pick(["Echo.any", "Calculator.sum"]),
        params: {
          values: wideValue(rng, rng.size(30_000)),
          value: wideValue(rng, rng.size(10_000)),
        },
      };
    case 6:
      return { method: "Echo.any", params: { value: randomValue(rng, 6, options) } };
    case 7:
      return {
        method: "Echo.sample",
        params: {
          value: { ...SAMPLE, [rng.pick(Object.keys(SAMPLE))]: randomValue(rng, 2, options) },
        },
      };
    case 8:
      return { method: call.method, params: rng.chance(0.5) ? null : randomValue(rng, 0, options) };
    default:
      return { method: "Echo.any", params: [randomValue(rng, 4, options)] };
  }
}
