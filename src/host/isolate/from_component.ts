/**
 * The one check of what a component sends its host: a worker's messages and a component
 * process's frames both arrive here before the host reads a field. The component is
 * untrusted (its own code can post anything the structured clone carries), so each
 * message is read field by field, from own data properties only, into a fresh object of
 * the shape {@linkcode FromWorker} promises; anything else is refused with a fixed
 * description of what was wrong (never the component's own text). Texts meant for logs
 * are cut to {@linkcode MAX_TEXT}; interface definitions are bounded in depth and size.
 *
 * @module
 */

import type { InterfaceDef, MethodDef } from "../../core/idl/interface.ts";
import type { Fields, Kind, LiteralValue, Type } from "../../core/idl/types.ts";
import type { Outcome, TraceCarrier } from "../../core/context.ts";
import type { ErrorShape } from "../../core/errors.ts";
import type { ExportedImplementation, FromWorker } from "./protocol.ts";
import { DEFAULT_MAX_ITEM_BYTES } from "../../core/stream/table.ts";

/** The longest text (log line, crash or load failure) kept from a component; the rest is cut. */
export const MAX_TEXT = 16 * 1024;
/** The longest name (method, error name, domain, trace header) a component may send. */
export const MAX_NAME = 1024;
/** The most distinct type nodes in the interfaces one component declares. */
export const MAX_TYPE_NODES = 100_000;
/** The deepest type nesting a component may declare. */
export const MAX_TYPE_DEPTH = 64;
/** The most implementations one component may export. */
export const MAX_IMPLEMENTATIONS = 1000;

/** A message that passed the check, or why it did not. */
export type CheckedMessage =
  | { ok: true; message: FromWorker }
  | {
    ok: false;
    /** A fixed label of the kind of problem (from a finite set: safe to count and log). */
    kind: string;
    /** What was wrong, in the host's words. */
    problem: string;
  };

/** A message refused: `kind` groups refusals for logging, `problem` says what was wrong. */
class Refused extends Error {
  constructor(readonly kind: string, problem: string) {
    super(problem);
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KINDS: ReadonlySet<Kind> = new Set<Kind>([
  "int",
  "int64",
  "float",
  "string",
  "bool",
  "bytes",
  "datetime",
  "array",
  "map",
  "struct",
  "optional",
  "nullable",
  "literal",
  "any",
  "stream",
]);

/**
 * Checks one message from a component. Never throws, whatever `data` is (cyclic,
 * exotic prototypes, getters, proxies of a test's own making).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkFromWorker } from "./from_component.ts";
 *
 * assert.deepEqual(checkFromWorker({ type: "pong", id: 1 }), {
 *   ok: true,
 *   message: { type: "pong", id: 1 },
 * });
 * assert.equal(checkFromWorker({ type: "log", level: "nope", message: "x" }).ok, false);
 * assert.equal(checkFromWorker({ type: "result", id: 1, outcome: null }).ok, false);
 * ```
 */
export function checkFromWorker(data: unknown): CheckedMessage {
  try {
    return { ok: true, message: message(data) };
  } catch (error) {
    if (error instanceof Refused) return { ok: false, kind: error.kind, problem: error.message };
    // Only a hostile value of the caller's own making (a proxy, a getter) gets here.
    return { ok: false, kind: "unreadable", problem: "a message that could not be read" };
  }
}

function message(data: unknown): FromWorker {
  const m = record(data, "message", "a message that is not a plain object");
  const type = field(m, "type");
  switch (type) {
    case "ready":
      return {
        type,
        implementations: implementations(field(m, "implementations")),
        specifier: string(field(m, "specifier"), Infinity, "ready", "its specifier"),
      };
    case "failed":
    case "crashed":
      return { type, message: text(field(m, "message"), type) };
    case "result":
      return { type, id: id(field(m, "id"), type), outcome: outcome(field(m, "outcome")) };
    case "started":
    case "pong":
    case "cancel":
      return { type, id: id(field(m, "id"), type) };
    case "log": {
      const level = field(m, "level");
      if (level !== "error" && level !== "warn") {
        throw new Refused("log", "a log message whose level is neither error nor warn");
      }
      return { type, level, message: text(field(m, "message"), type) };
    }
    case "call":
      return {
        type,
        id: id(field(m, "id"), type),
        method: name(field(m, "method"), type, "its method"),
        params: field(m, "params"),
        ...optional("deadline", deadline(field(m, "deadline"))),
        ...optional("trace", trace(field(m, "trace"), type)),
        ...optional("stream", flag(field(m, "stream"), type)),
        ...optional("streams", streamNames(field(m, "streams"))),
      };
    case "notify":
      return {
        type,
        method: name(field(m, "method"), type, "its method"),
        params: field(m, "params"),
        ...optional("trace", trace(field(m, "trace"), type)),
      };
    case "exited": {
      const how = field(m, "how");
      if (how !== "close" && how !== "exit") {
        throw new Refused("exited", "an exit notice that is neither close nor exit");
      }
      const code = field(m, "code");
      if (code !== undefined && !Number.isSafeInteger(code)) {
        throw new Refused("exited", "an exit notice whose code is not an integer");
      }
      return { type, how, ...optional("code", code as number | undefined) };
    }
    case "stream.credit":
      return { type, stream: streamId(field(m, "stream")), n: positive(field(m, "n"), "n") };
    case "stream.cancel":
      return { type, stream: streamId(field(m, "stream")) };
    case "stream.item": {
      const item = field(m, "item");
      if (cloneBytes(item, MAX_STREAM_ITEM_BYTES) > MAX_STREAM_ITEM_BYTES) {
        throw new Refused(
          "stream",
          `a stream item larger than ${MAX_STREAM_ITEM_BYTES} bytes (the limit)`,
        );
      }
      return { type, stream: streamId(field(m, "stream")), seq: count0(field(m, "seq")), item };
    }
    case "stream.end":
      return { type, stream: streamId(field(m, "stream")), count: count0(field(m, "count")) };
    case "stream.error":
      return {
        type,
        stream: streamId(field(m, "stream")),
        error: errorShape(field(m, "error"), "stream"),
      };
    default:
      throw new Refused("type", "a message of no known type");
  }
}

/** The largest stream item a component may send (what a msgpack-rpc peer may, too). */
export const MAX_STREAM_ITEM_BYTES = DEFAULT_MAX_ITEM_BYTES;

function flag(value: unknown, kind: string): true | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true) {
    throw new Refused(kind, `a ${kind} message whose stream flag is not a boolean`);
  }
  return true;
}

/** The most stream params one call may name. */
const MAX_STREAM_PARAMS = 64;

function streamNames(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > MAX_STREAM_PARAMS) {
    throw new Refused("call", "a call message whose stream params are not a short list");
  }
  const names: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const n = name(field(value, String(i)), "call", "stream param");
    if (n === "__proto__") {
      throw new Refused("call", "a call message with a stream param that is not allowed");
    }
    names.push(n);
  }
  return names;
}

function streamId(value: unknown): number {
  return positive(value, "stream id");
}

function positive(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new Refused("stream", `a stream message whose ${what} is not a positive integer`);
  }
  return value;
}

function count0(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new Refused(
      "stream",
      "a stream message whose seq or count is not a non-negative integer",
    );
  }
  return value;
}

/**
 * About how many bytes `value` takes (strings, byte arrays, 8 per number and per entry),
 * counting each object once and stopping once past `limit`: the work is bounded by the
 * limit, whatever the value holds.
 */
export function cloneBytes(value: unknown, limit: number): number {
  let total = 0;
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length !== 0 && total <= limit) {
    const v = stack.pop();
    if (typeof v === "string") total += v.length;
    else if (typeof v !== "object" || v === null) total += 8;
    else if (seen.has(v)) continue;
    else {
      seen.add(v);
      if (ArrayBuffer.isView(v)) total += v.byteLength;
      else if (v instanceof ArrayBuffer) total += v.byteLength;
      else if (v instanceof Map) {
        for (const [key, entry] of v) {
          total += 8;
          stack.push(key, entry);
          if (total > limit) break;
        }
      } else if (v instanceof Set) {
        for (const entry of v) {
          total += 8;
          stack.push(entry);
          if (total > limit) break;
        }
      } else {
        for (const key of Object.keys(v)) {
          total += 8 + key.length;
          stack.push(field(v, key));
          if (total > limit) break;
        }
      }
    }
  }
  return total;
}

/** `{ [key]: value }`, or nothing when the value is absent. */
function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

/** A plain object (what a structured clone makes of one), else refused. */
function record(value: unknown, kind: string, problem: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null) throw new Refused(kind, problem);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new Refused(kind, problem);
  return value as Record<string, unknown>;
}

/** An own data property (never a getter, never an inherited key such as `constructor`). */
function field(from: object, key: string): unknown {
  return Object.getOwnPropertyDescriptor(from, key)?.value;
}

function id(value: unknown, kind: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new Refused(kind, `a ${kind} message whose id is not a non-negative integer`);
  }
  return value;
}

function string(value: unknown, max: number, kind: string, what: string): string {
  if (typeof value !== "string") {
    throw new Refused(kind, `a ${kind} message whose ${what} is not a string`);
  }
  if (value.length > max) {
    throw new Refused(kind, `a ${kind} message whose ${what} is longer than ${max} characters`);
  }
  return value;
}

function name(value: unknown, kind: string, what: string): string {
  const checked = string(value, MAX_NAME, kind, what);
  if (checked === "") throw new Refused(kind, `a ${kind} message whose ${what} is empty`);
  return checked;
}

/** A text for a person (a log line, a crash): cut, not refused, when too long. */
function text(value: unknown, kind: string): string {
  if (typeof value !== "string") {
    throw new Refused(kind, `a ${kind} message whose text is not a string`);
  }
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}… (cut)` : value;
}

function deadline(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Refused("call", "a call message whose deadline is not a finite number");
  }
  return value;
}

function trace(value: unknown, kind: string): TraceCarrier | undefined {
  if (value === undefined) return undefined;
  const carrier = record(value, kind, `a ${kind} message whose trace is not an object`);
  const traceparent = name(field(carrier, "traceparent"), kind, "traceparent");
  const tracestate = field(carrier, "tracestate");
  return tracestate === undefined
    ? { traceparent }
    : { traceparent, tracestate: name(tracestate, kind, "tracestate") };
}

function outcome(value: unknown): Outcome {
  const o = record(value, "result", "a result message whose outcome is not an object");
  const ok = field(o, "ok");
  if (ok === true) return { ok, value: field(o, "value") };
  if (ok !== false) {
    throw new Refused("result", "a result message whose outcome is neither ok nor not");
  }
  return { ok, error: errorShape(field(o, "error"), "result") };
}

function errorShape(value: unknown, kind: string): ErrorShape {
  const e = record(value, kind, `a ${kind} message whose error is not an object`);
  const code = field(e, "code");
  if (typeof code !== "number" || !Number.isSafeInteger(code)) {
    throw new Refused(kind, `a ${kind} message whose error code is not an integer`);
  }
  const shape: ErrorShape = {
    code,
    name: name(field(e, "name"), kind, "error name"),
    message: text(field(e, "message"), kind),
  };
  const data = field(e, "data");
  if (data !== undefined) shape.data = data;
  return shape;
}

function implementations(value: unknown): ExportedImplementation[] {
  if (!Array.isArray(value) || value.length > MAX_IMPLEMENTATIONS) {
    throw new Refused("ready", "a ready message whose implementations are not a short list");
  }
  const types = new TypeReader();
  const list: ExportedImplementation[] = [];
  for (let i = 0; i < value.length; i++) {
    const e = record(
      field(value, String(i)),
      "ready",
      "a ready message with an odd implementation",
    );
    const exported: ExportedImplementation = { iface: types.interface(field(e, "iface")) };
    const domain = field(e, "domain");
    if (domain !== undefined) exported.domain = name(domain, "ready", "domain");
    const concurrency = count(field(e, "concurrency"), 1, "concurrency");
    if (concurrency !== undefined) exported.concurrency = concurrency;
    const queue = count(field(e, "queue"), 0, "queue");
    if (queue !== undefined) exported.queue = queue;
    const once = field(e, "once");
    if (once !== undefined && typeof once !== "boolean") {
      throw new Refused("ready", "a ready message whose once is not a boolean");
    }
    if (once) exported.once = true;
    list.push(exported);
  }
  return list;
}

function count(value: unknown, least: number, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < least) {
    throw new Refused(
      "ready",
      `a ready message whose ${what} is not an integer of at least ${least}`,
    );
  }
  return value;
}

/**
 * Reads the interfaces of a ready message into fresh types. A structured clone keeps
 * shared and cyclic references: each node is read once (so sharing costs nothing, and the
 * work is bounded by the nodes sent), and a type that contains itself is refused.
 */
class TypeReader {
  readonly #done = new Map<object, Type>();
  readonly #reading = new Set<object>();

  interface(value: unknown): InterfaceDef {
    const iface = record(value, "ready", "a ready message with an interface that is not an object");
    const ifaceName = identifier(field(iface, "name"), "interface name");
    const methods = record(
      field(iface, "methods"),
      "ready",
      "a ready message whose interface has no methods object",
    );
    const read: Record<string, MethodDef> = {};
    for (const key of Object.keys(methods)) {
      read[identifier(key, "method name")] = this.#method(field(methods, key));
    }
    const doc = optionalText(field(iface, "doc"));
    return { name: ifaceName, methods: read, ...optional("doc", doc) };
  }

  #method(value: unknown): MethodDef {
    const m = record(value, "ready", "a ready message with a method that is not an object");
    const isPublic = field(m, "public");
    if (typeof isPublic !== "boolean") {
      throw new Refused(
        "ready",
        "a ready message with a method whose public flag is not a boolean",
      );
    }
    const errors = field(m, "errors");
    if (!Array.isArray(errors) || errors.length > MAX_IMPLEMENTATIONS) {
      throw new Refused("ready", "a ready message with a method whose errors are not a short list");
    }
    const names: string[] = [];
    for (let i = 0; i < errors.length; i++) {
      names.push(name(field(errors, String(i)), "ready", "error name"));
    }
    const def: MethodDef = {
      params: this.#fields(field(m, "params"), 1),
      result: this.#type(field(m, "result"), 1),
      public: isPublic,
      errors: names,
      ...optional("doc", optionalText(field(m, "doc"))),
      ...optional("concurrency", count(field(m, "concurrency"), 1, "concurrency")),
      ...optional("queue", count(field(m, "queue"), 0, "queue")),
    };
    return def;
  }

  #fields(value: unknown, depth: number): Fields {
    const f = record(value, "ready", "a ready message with fields that are not an object");
    const read: Record<string, Type> = {};
    for (const key of Object.keys(f)) {
      if (key === "__proto__" || key.length > MAX_NAME) {
        throw new Refused("ready", "a ready message with a field name that is not allowed");
      }
      read[key] = this.#type(field(f, key), depth + 1);
    }
    return read;
  }

  #type(value: unknown, depth: number): Type {
    const node = record(value, "ready", "a ready message with a type that is not an object");
    const done = this.#done.get(node);
    if (done) return done;
    if (this.#reading.has(node)) {
      throw new Refused("ready", "a ready message with a type that contains itself");
    }
    if (depth > MAX_TYPE_DEPTH || this.#done.size + this.#reading.size >= MAX_TYPE_NODES) {
      throw new Refused("ready", "a ready message whose types are too deep or too many");
    }
    this.#reading.add(node);
    const read = this.#node(node, depth);
    this.#reading.delete(node);
    this.#done.set(node, read);
    return read;
  }

  #node(node: Record<string, unknown>, depth: number): Type {
    const kind = field(node, "kind");
    if (typeof kind !== "string" || !KINDS.has(kind as Kind)) {
      throw new Refused("ready", "a ready message with a type of no known kind");
    }
    const doc = optional("doc", optionalText(field(node, "doc")));
    switch (kind as Kind) {
      case "array":
        return {
          kind: "array",
          items: this.#type(field(node, "items"), depth + 1),
          ...doc,
        } as Type;
      case "map":
        return {
          kind: "map",
          values: this.#type(field(node, "values"), depth + 1),
          ...doc,
        } as Type;
      case "stream":
        return {
          kind: "stream",
          items: this.#type(field(node, "items"), depth + 1),
          ...doc,
        } as Type;
      case "optional":
      case "nullable":
        return { kind, inner: this.#type(field(node, "inner"), depth + 1), ...doc } as Type;
      case "struct": {
        const extra = field(node, "extra");
        if (extra !== undefined && extra !== "allow" && extra !== "reject") {
          throw new Refused(
            "ready",
            "a ready message with a struct whose extra is not allow or reject",
          );
        }
        return {
          kind: "struct",
          name: name(field(node, "name"), "ready", "struct name"),
          fields: this.#fields(field(node, "fields"), depth),
          ...optional("extra", extra),
          ...doc,
        } as Type;
      }
      case "literal":
        return { kind: "literal", values: literals(field(node, "values")), ...doc } as Type;
      default:
        return { kind, ...doc } as Type;
    }
  }
}

function identifier(value: unknown, what: string): string {
  if (
    typeof value !== "string" || value === "__proto__" || !IDENTIFIER.test(value) ||
    value.length > MAX_NAME
  ) {
    throw new Refused("ready", `a ready message whose ${what} is not an identifier`);
  }
  return value;
}

function optionalText(value: unknown): string | undefined {
  return value === undefined ? undefined : text(value, "ready");
}

function literals(value: unknown): LiteralValue[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_TYPE_NODES) {
    throw new Refused("ready", "a ready message with a literal type of no values");
  }
  const read: LiteralValue[] = [];
  for (let i = 0; i < value.length; i++) {
    const v = field(value, String(i));
    if (
      !(typeof v === "string" && v.length <= MAX_TEXT) && typeof v !== "boolean" &&
      !(typeof v === "number" && Number.isFinite(v))
    ) {
      throw new Refused("ready", "a ready message with a literal type of an odd value");
    }
    read.push(v as LiteralValue);
  }
  return read;
}
