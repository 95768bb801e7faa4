/**
 * Messages a component might post to its host, from the ones the worker entry sends to
 * forged ones of every shape: unknown types, missing and mistyped fields, null outcomes,
 * ids of other calls (small ids hit calls in flight), prototype keys, long strings,
 * interfaces with cyclic, deep, wide and oddly named types, and values only a structured
 * clone carries (maps, sets, cycles, bigints, errors, sparse arrays, shared memory). Run
 * inside the component (scripts/fuzz/forger_component.ts), so they cross the real boundary.
 *
 * @module
 */

import type { Rng } from "./rng.ts";
import { randomNumber, randomString, randomValue } from "./values.ts";

const TYPES = [
  "ready",
  "failed",
  "result",
  "started",
  "crashed",
  "log",
  "pong",
  "call",
  "notify",
  "exited",
  "stream.credit",
  "stream.cancel",
  "stream.item",
  "stream.end",
  "stream.error",
] as const;
type MessageType = typeof TYPES[number];

const ODD_TYPES = ["ping", "reply", "load", "cancel", "__proto__", "constructor", "", "READY"];
const KEYS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty"];
const KINDS = [
  "int",
  "int64",
  "float",
  "string",
  "bool",
  "bytes",
  "datetime",
  "any",
  "array",
  "map",
  "struct",
  "optional",
  "nullable",
  "literal",
  "stream",
];
/** Methods a forged call may name: real ones, odd ones, never the forger's own (a loop). */
const METHODS = [
  "Calculator.add",
  "Calculator.divide",
  "Echo.echo",
  "Forger.hello",
  "$/ping",
  "rpc.discover",
  "system.listMethods",
  "Nope.nope",
  "__proto__",
  "constructor.prototype",
  "Calculator.__proto__",
];

/** The ids of calls in flight, as the component saw them start (forged replies hit them). */
let inFlight: readonly number[] = [];

/**
 * `count` messages for the host (some of which cannot be cloned; the poster skips those);
 * `ids` are ids of the host's calls the component saw begin.
 */
export function forgeMessages(rng: Rng, count: number, ids: readonly number[] = []): unknown[] {
  inFlight = ids;
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) out.push(forgeMessage(rng));
  return out;
}

function forgeMessage(rng: Rng): unknown {
  if (rng.chance(0.01)) return weird(rng, 2);
  if (rng.chance(0.01)) return { type: rng.pick(ODD_TYPES), id: id(rng) };
  // Messages that end the worker (crashes, exits, load failures) are rarer than the rest.
  const type = rng.chance(0.9)
    ? rng.pick(
      ["result", "result", "started", "log", "pong", "call", "notify", "stream.item"] as const,
    )
    : rng.pick(TYPES);
  const message = shaped(rng, type);
  // Most messages keep their shape (so that the worker survives a while), some do not.
  if (rng.chance(0.93)) return message;
  const keys = Object.keys(message);
  switch (rng.int(4)) {
    case 0:
      delete message[rng.pick(keys)];
      break;
    case 1:
      message[rng.pick(keys)] = weird(rng, 2);
      break;
    case 2:
      Object.defineProperty(message, rng.pick(KEYS), {
        value: weird(rng, 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      break;
    default:
      message.type = rng.pick([...ODD_TYPES, ...TYPES]);
  }
  return message;
}

function shaped(rng: Rng, type: MessageType): Record<string, unknown> {
  switch (type) {
    case "ready":
      return {
        type,
        specifier: rng.chance(0.5) ? "data:text/javascript," : randomString(rng),
        implementations: Array.from({ length: rng.size(3) }, () => implementation(rng)),
      };
    case "failed":
    case "crashed":
      return { type, message: text(rng) };
    case "result":
      return { type, id: id(rng), outcome: outcome(rng) };
    case "started":
    case "pong":
      return { type, id: id(rng) };
    case "log":
      return {
        type,
        level: rng.chance(0.8) ? rng.pick(["error", "warn"]) : rng.pick(["info", ...KEYS]),
        message: text(rng),
      };
    case "call":
      return {
        type,
        id: id(rng),
        method: rng.pick(METHODS),
        params: rng.chance(0.5) ? { a: 2, b: 3, text: "x" } : weird(rng, 2),
        ...(rng.chance(0.5) ? { deadline: Date.now() + rng.int(2000) } : {}),
        ...(rng.chance(0.3) ? { trace: trace(rng) } : {}),
        ...(rng.chance(0.2) ? { stream: rng.chance(0.8) ? true : weird(rng, 1) } : {}),
        ...(rng.chance(0.2) ? { streams: rng.chance(0.8) ? ["values"] : weird(rng, 1) } : {}),
      };
    case "notify":
      return {
        type,
        method: rng.pick(METHODS),
        params: weird(rng, 2),
        ...(rng.chance(0.3) ? { trace: trace(rng) } : {}),
      };
    case "exited":
      return rng.chance(0.5)
        ? { type, how: "close" }
        : { type, how: "exit", code: rng.pick([0, 1, 255, -1]) };
    // Streams the host never gave, or that just ended; counts, credit and items of any kind.
    case "stream.credit":
      return { type, stream: id(rng), n: rng.chance(0.8) ? rng.range(1, 64) : weird(rng, 1) };
    case "stream.cancel":
      return { type, stream: id(rng) };
    case "stream.item":
      return {
        type,
        stream: id(rng),
        seq: rng.chance(0.8) ? rng.range(0, 32) : weird(rng, 1),
        item: rng.chance(0.02) ? "x".repeat(rng.range(1, 2 * 1024 * 1024)) : weird(rng, 2),
      };
    case "stream.end":
      return { type, stream: id(rng), count: rng.chance(0.8) ? rng.range(0, 32) : weird(rng, 1) };
    case "stream.error":
      return { type, stream: id(rng), error: (outcome(rng) as { error?: unknown })?.error };
  }
}

function id(rng: Rng): unknown {
  if (inFlight.length && rng.chance(0.6)) return rng.pick(inFlight);
  if (rng.chance(0.8)) return rng.range(0, 12);
  return rng.pick([-1, 1.5, 2 ** 32, 2 ** 53, NaN, "1", null, 1n]);
}

function text(rng: Rng): unknown {
  if (rng.chance(0.02)) return "x".repeat(rng.range(1, 1024 * 1024));
  return rng.chance(0.9) ? randomString(rng) : weird(rng, 1);
}

function outcome(rng: Rng): unknown {
  switch (rng.int(5)) {
    case 0:
    case 1:
      return { ok: true, value: weird(rng, 3) };
    case 2:
      return {
        ok: false,
        error: {
          code: rng.chance(0.8) ? rng.pick([-32000, -32001, 1, 0]) : randomNumber(rng),
          name: rng.chance(0.8) ? rng.pick(["Refused", "Timeout", ...KEYS]) : weird(rng, 1),
          message: text(rng),
          ...(rng.chance(0.3) ? { data: weird(rng, 2) } : {}),
        },
      };
    case 3:
      return rng.pick([null, undefined, true, "ok", { ok: "true" }, { ok: false }]);
    default:
      return { ok: false, error: rng.pick([null, "x", { code: 1 }, weird(rng, 1)]) };
  }
}

function trace(rng: Rng): unknown {
  return rng.chance(0.7)
    ? { traceparent: `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01` }
    : { traceparent: weird(rng, 1), tracestate: weird(rng, 1) };
}

function implementation(rng: Rng): unknown {
  const methods: Record<string, unknown> = {};
  for (let i = 0; i < rng.size(4); i++) {
    Object.defineProperty(methods, rng.chance(0.8) ? `m${i}` : rng.pick(KEYS), {
      value: {
        params: { a: type(rng, 3), b: type(rng, 3) },
        result: type(rng, 4),
        public: rng.chance(0.9) ? false : weird(rng, 1),
        errors: rng.chance(0.9) ? [] : weird(rng, 1),
      },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return {
    iface: { name: rng.chance(0.8) ? "Forged" : rng.pick(KEYS), methods },
    ...(rng.chance(0.2) ? { concurrency: rng.pick([0, 1, -1, 1.5]) } : {}),
  };
}

/** An IDL type: valid, odd, deep, cyclic or widely shared. */
function type(rng: Rng, depth: number): unknown {
  if (rng.chance(0.02)) {
    const cyclic: Record<string, unknown> = { kind: "array" };
    cyclic.items = cyclic;
    return cyclic;
  }
  if (rng.chance(0.02)) {
    let deep: unknown = { kind: "int" };
    for (let i = 0, n = rng.size(5000); i < n; i++) deep = { kind: "array", items: deep };
    return deep;
  }
  if (rng.chance(0.02)) {
    let shared: unknown = { kind: "string" };
    for (let i = 0; i < 40; i++) {
      shared = { kind: "struct", name: "S", fields: { a: shared, b: shared } };
    }
    return shared;
  }
  const kind = rng.chance(0.95) ? rng.pick(KINDS) : weird(rng, 1);
  const inner = () => depth > 0 ? type(rng, depth - 1) : { kind: "int" };
  switch (kind) {
    case "array":
      return { kind, items: inner() };
    case "map":
      return { kind, values: inner() };
    case "optional":
    case "nullable":
      return { kind, inner: inner() };
    case "struct":
      return {
        kind,
        name: "S",
        fields: rng.chance(0.9) ? { x: inner() } : JSON.parse('{"__proto__": {"kind": "int"}}'),
      };
    case "literal":
      return { kind, values: rng.chance(0.8) ? ["a", 1, true] : weird(rng, 1) };
    default:
      return { kind };
  }
}

/** A value of any kind the structured clone carries, and some it does not. */
function weird(rng: Rng, depth: number): unknown {
  switch (rng.int(15)) {
    case 0:
      return new Map([[weird(rng, depth - 1), weird(rng, depth - 1)]]);
    case 1:
      return new Set([randomString(rng)]);
    case 2: {
      const cyclic: Record<string, unknown> = { type: "result" };
      cyclic.self = cyclic;
      return cyclic;
    }
    case 3:
      return rng.pick([undefined, null, NaN, -0, Infinity, 2n ** 70n, new Date(NaN)]);
    case 4:
      return rng.pick([/x+/g, new Error("forged"), new RangeError("r"), new String("s")]);
    case 5: {
      const sparse: unknown[] = [];
      sparse[rng.pick([10, 1000, 100_000])] = 1;
      return sparse;
    }
    case 6: {
      let deep: unknown = 1;
      for (let i = 0, n = rng.size(2000); i < n; i++) deep = [deep];
      return deep;
    }
    case 7:
      // Cannot be cloned: the poster skips it (a component gets a DataCloneError).
      return rng.pick([() => 1, Symbol("s")]);
    case 8:
      return JSON.parse('{"__proto__": {"type": "pong", "id": 1}, "constructor": 1}');
    case 9:
      // Shared memory and compiled code cross into a host too (the component keeps a hold).
      return rng.pick([
        () => new SharedArrayBuffer(8),
        () => new Uint8Array(new SharedArrayBuffer(16)),
        () => new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
      ])();
    default:
      return randomValue(rng, Math.max(0, depth));
  }
}
