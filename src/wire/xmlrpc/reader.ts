/**
 * Reads XML-RPC documents (`<methodCall>`, `<methodResponse>`) into JavaScript values,
 * refusing anything that is not XML-RPC before it can cost memory or time.
 *
 * The XML parser is saxes (npm), chosen over fast-xml-parser by measurement: streaming
 * builds no tree to walk afterwards, so small calls and large arrays alike are read much
 * faster than through fast-xml-parser's tree builder, and parse, dispatch and reply together
 * beat npm xmlrpc's own codec. Streaming also lets this reader stop at the first element
 * XML-RPC does not allow, instead of building a tree of it first. saxes is also
 * strict (well-formedness errors are errors, not guesses) and safe by construction:
 * it never reads a DTD's entity declarations, never fetches anything, and knows only
 * XML's five predefined entities and character references, so billion-laughs and XXE
 * documents can only fail. On top of it this reader refuses any DOCTYPE outright,
 * accepts only the elements XML-RPC defines where it defines them, and caps how deep
 * values nest.
 *
 * @module
 */

import { SaxesParser, type SaxesTagPlain } from "saxes";
import { MAX_DEPTH } from "../../core/idl/tagged.ts";
import { decodeBase64 } from "../../core/base64.ts";
import { markDouble } from "./double_marks.ts";

/** How deep values may nest (`<array>` and `<struct>` inside one another). */
export const MAX_VALUE_DEPTH: number = MAX_DEPTH;

/**
 * A document that is not well-formed XML (-32700) or not valid XML-RPC (-32600).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMethodResponse, XmlRpcReadError } from "@switchboard/rpc/xmlrpc";
 *
 * for (const [text, code] of [["<methodResponse>", -32700], ["<methodCall/>", -32600]] as const) {
 *   try {
 *     decodeMethodResponse(text);
 *     assert.fail("not a method response");
 *   } catch (error) {
 *     assert.ok(error instanceof XmlRpcReadError);
 *     assert.equal(error.code, code);
 *   }
 * }
 * ```
 */
export class XmlRpcReadError extends Error {
  /** -32700 (not well-formed XML) or -32600 (well-formed, but not XML-RPC). */
  readonly code: -32700 | -32600;
  /** Creates the error. */
  constructor(code: -32700 | -32600, message: string) {
    super(message);
    this.name = code === -32700 ? "ParseError" : "InvalidRequest";
    this.code = code;
  }
}

/** A parsed `<methodCall>`: the method name and its positional params. */
export interface XmlRpcCall {
  /** The `<methodName>`. */
  method: string;
  /** The `<param>` values, in order. */
  params: unknown[];
}

/** A parsed `<methodResponse>`: a value, or the fault's value (normally a struct). */
export type XmlRpcResponse = { ok: true; value: unknown } | { ok: false; fault: unknown };

// Element kinds as small integers: a tag name from the parser is a fresh string, and
// comparing it against constants once is cheaper than hashing it for every lookup.
const METHOD_CALL = 0, METHOD_RESPONSE = 1, METHOD_NAME = 2, PARAMS = 3, PARAM = 4;
const FAULT = 5, VALUE = 6, ARRAY = 7, DATA = 8, STRUCT = 9, MEMBER = 10, NAME = 11;
/** Kinds from here on are scalars (`<int>`, `<string>`, …); OTHER is not XML-RPC. */
const FIRST_SCALAR = 12, OTHER = 31;

function kindOf(tag: string): number {
  switch (tag) {
    case "value":
      return VALUE;
    case "member":
      return MEMBER;
    case "name":
      return NAME;
    case "param":
      return PARAM;
    case "params":
      return PARAMS;
    case "data":
      return DATA;
    case "array":
      return ARRAY;
    case "struct":
      return STRUCT;
    case "methodName":
      return METHOD_NAME;
    case "methodCall":
      return METHOD_CALL;
    case "methodResponse":
      return METHOD_RESPONSE;
    case "fault":
      return FAULT;
    case "i4":
    case "int":
    case "i8":
    case "ex:i8":
    case "double":
    case "boolean":
    case "string":
    case "dateTime.iso8601":
    case "base64":
    case "nil":
    case "ex:nil":
      return FIRST_SCALAR;
    default:
      return OTHER;
  }
}

const bits = (...kinds: number[]) => kinds.reduce((mask, kind) => mask | (1 << kind), 0);
/** The kinds XML-RPC allows inside each kind, as bit masks. */
const CHILDREN: number[] = new Array(32).fill(0);
CHILDREN[METHOD_CALL] = bits(METHOD_NAME, PARAMS);
CHILDREN[METHOD_RESPONSE] = bits(PARAMS, FAULT);
CHILDREN[PARAMS] = bits(PARAM);
CHILDREN[PARAM] = bits(VALUE);
CHILDREN[FAULT] = bits(VALUE);
CHILDREN[VALUE] = bits(FIRST_SCALAR, ARRAY, STRUCT);
CHILDREN[ARRAY] = bits(DATA);
CHILDREN[DATA] = bits(VALUE);
CHILDREN[STRUCT] = bits(MEMBER);
CHILDREN[MEMBER] = bits(NAME, VALUE);

/** An open element. A class, so that every frame has one shape. */
class Frame {
  readonly tag: string;
  readonly kind: number;
  text = "";
  /** How many child elements were opened. */
  children = 0;
  /** The value a `value`/`param`/`member`/`fault` frame holds, once `has` is set. */
  value: unknown = undefined;
  has = false;
  /** `array` and `data` frames: the items (shared). */
  items: unknown[] | undefined = undefined;
  /** `struct` frames: the members. */
  members: Record<string, unknown> | undefined = undefined;
  /** `member` frames: the name, once read. */
  name: string | undefined = undefined;
  /** `value` and `member` frames: the value is a whole number that came as `<double>`. */
  wholeDouble = false;
  /** The root frame: the method name and the params. */
  method: string | undefined = undefined;
  params: unknown[] | undefined = undefined;

  constructor(tag: string, kind: number) {
    this.tag = tag;
    this.kind = kind;
  }
}

const INT = /^[+-]?\d+$/;
const DOUBLE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NOT_SPACE = /[^ \t\r\n]/;
// XML-RPC's own form is 19980717T14:08:55; dashes, fractions and zones are accepted too.
const DATETIME =
  /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;
const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;
const INT32_MIN = -(2 ** 31), INT32_MAX = 2 ** 31 - 1;

function invalid(message: string): never {
  throw new XmlRpcReadError(-32600, message);
}

/**
 * Reads an integer: `<int>`/`<i4>` within 32 bits (the spec's "four-byte signed integer"),
 * `<i8>` as a number when safe, a bigint within 64 bits; anything else is an error.
 */
function readInt(text: string, tag: string): number | bigint {
  const s = text.trim();
  if (!INT.test(s)) invalid(`<${tag}> holds ${quote(s)}, not an integer`);
  const n = Number(s);
  if (tag === "int" || tag === "i4") {
    if (n < INT32_MIN || n > INT32_MAX) {
      invalid(`<${tag}> ${quote(s)} does not fit 32 bits (a larger integer is an <i8>)`);
    }
    return n;
  }
  if (Number.isSafeInteger(n)) return n;
  const big = BigInt(s);
  if (big < INT64_MIN || big > INT64_MAX) invalid(`<${tag}> ${s} does not fit 64 bits`);
  return big;
}

function readDateTime(text: string): Date {
  const m = DATETIME.exec(text.trim());
  if (!m) invalid(`<dateTime.iso8601> holds ${quote(text)}, not a date (19980717T14:08:55)`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Math.round(Number(frac) * 1000) : 0;
  let time = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms);
  const check = new Date(time);
  if (
    check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || +h > 23 || +mi > 59 ||
    +s > 59
  ) {
    invalid(`<dateTime.iso8601> ${quote(text)} is not a valid date`);
  }
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    time -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  // A date without a zone is read as UTC: XML-RPC leaves the zone to agreement.
  return new Date(time);
}

function readScalar(tag: string, text: string): unknown {
  switch (tag) {
    case "string":
      return text;
    case "int":
    case "i4":
    case "i8":
    case "ex:i8":
      return readInt(text, tag);
    case "double": {
      const s = text.trim();
      if (!DOUBLE.test(s)) invalid(`<double> holds ${quote(s)}, not a finite number`);
      const n = Number(s);
      if (!Number.isFinite(n)) invalid(`<double> ${s} is out of range`);
      return n;
    }
    case "boolean": {
      const s = text.trim();
      if (s === "1" || s === "true") return true;
      if (s === "0" || s === "false") return false;
      return invalid(`<boolean> holds ${quote(s)}, not 0 or 1`);
    }
    case "dateTime.iso8601":
      return readDateTime(text);
    case "base64":
      try {
        return decodeBase64(text);
      } catch {
        return invalid(`<base64> does not hold base64`);
      }
    default: // nil, ex:nil
      if (NOT_SPACE.test(text)) invalid(`<${tag}/> must be empty`);
      return null;
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + "…" : text);
}

/** Where in the document the innermost open element is, e.g. `params[1][3].name`. */
function where(stack: readonly Frame[]): string {
  let path = "";
  let params = 0;
  for (const frame of stack) {
    if (frame.kind === PARAMS) params = frame.children;
    else if (frame.kind === PARAM) path = `params[${params - 1}]`;
    else if (frame.kind === FAULT) path = "fault";
    else if (frame.kind === DATA) path += `[${Math.max(0, frame.children - 1)}]`;
    else if (frame.kind === MEMBER && frame.name !== undefined) path += `.${frame.name}`;
  }
  // Cut at 80 UTF-16 units, maybe inside a surrogate pair: the half left is replaced, or
  // the fault carrying this message could not be written as XML.
  if (path.length > 80) path = `${path.slice(0, 80).toWellFormed()}…`;
  return path ? `${path}: ` : "";
}

/** What one document's read has seen so far; reset before each document. */
const doc = {
  stack: [] as Frame[],
  depth: 0,
  top: undefined as Frame | undefined,
  root: "methodCall" as "methodCall" | "methodResponse",
};

function fail(message: string): never {
  return invalid(`${where(doc.stack)}${message}`);
}

function setValue(frame: Frame, value: unknown): void {
  frame.value = value;
  frame.has = true;
}

function onOpenTag(tag: SaxesTagPlain): void {
  const { stack } = doc;
  const name = tag.name;
  const kind = kindOf(name);
  const parent = stack[stack.length - 1];
  if (parent === undefined) {
    if (name !== doc.root) fail(`expected <${doc.root}>, got <${name}>`);
  } else {
    if ((CHILDREN[parent.kind] & (1 << kind)) === 0) {
      fail(`unexpected <${name}> in <${parent.tag}>`);
    }
    parent.children++;
    if (parent.children > 1) {
      if (parent.kind === VALUE) fail("a <value> holds one value");
      if (parent.kind === PARAM || parent.kind === FAULT) {
        fail(`a <${parent.tag}> holds one <value>`);
      }
      if (parent.kind === ARRAY) fail("an <array> holds one <data>");
    }
  }
  const frame = new Frame(name, kind);
  if (kind === ARRAY) frame.items = [];
  else if (kind === DATA) frame.items = parent!.items;
  else if (kind === STRUCT) frame.members = {};
  else if (kind === VALUE && ++doc.depth > MAX_VALUE_DEPTH) {
    fail(`values nest deeper than ${MAX_VALUE_DEPTH} levels`);
  }
  stack.push(frame);
  if (doc.top === undefined) doc.top = frame;
}

function onText(chunk: string): void {
  const frame = doc.stack[doc.stack.length - 1];
  if (frame !== undefined) frame.text += chunk;
}

function onCloseTag(): void {
  const { stack } = doc;
  const top = doc.top!;
  const frame = stack[stack.length - 1];
  const parent = stack[stack.length - 2];
  const kind = frame.kind;
  let value: unknown;
  switch (kind) {
    case VALUE:
      doc.depth--;
      if (frame.has) {
        if (frame.text !== "" && NOT_SPACE.test(frame.text)) fail("text beside a typed value");
        value = frame.value;
      } else {
        value = frame.text; // an untyped value is a string
      }
      if (parent.kind === DATA) {
        if (frame.wholeDouble) markDouble(parent.items!, parent.items!.length, value as number);
        parent.items!.push(value);
      } else if (parent.has) fail(`a <${parent.tag}> holds one <value>`);
      else {
        setValue(parent, value);
        parent.wholeDouble = frame.wholeDouble;
      }
      break;
    case NAME:
      if (parent.name !== undefined) fail("a <member> has one <name>");
      parent.name = frame.text;
      break;
    case MEMBER: {
      if (frame.name === undefined) fail("a <member> needs a <name>");
      if (!frame.has) fail("a <member> needs a <value>");
      const members = parent.members!;
      const name = frame.name!;
      if (Object.hasOwn(members, name)) fail(`duplicate member ${quote(name)}`);
      if (name === "__proto__") {
        // Assigning would set the prototype: a member of that name stays a plain property.
        Object.defineProperty(members, name, {
          value: frame.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        members[name] = frame.value;
      }
      if (frame.wholeDouble) markDouble(members, name, frame.value as number);
      break;
    }
    case ARRAY:
      if (frame.children === 0) fail("an <array> needs a <data>");
      setValue(parent, frame.items);
      break;
    case STRUCT:
      setValue(parent, frame.members);
      break;
    case PARAM:
      if (!frame.has) fail("a <param> needs a <value>");
      (top.params ??= []).push(frame.value);
      break;
    case FAULT:
      if (!frame.has) fail("a <fault> needs a <value>");
      setValue(top, frame.value);
      break;
    case METHOD_NAME:
      if (top.method !== undefined) fail("a <methodCall> has one <methodName>");
      top.method = frame.text.trim();
      break;
    case PARAMS:
      top.params ??= [];
      break;
    case DATA:
    case METHOD_CALL:
    case METHOD_RESPONSE:
      break;
    default:
      try {
        const scalar = readScalar(frame.tag, frame.text);
        setValue(parent, scalar);
        // So that a whole double inside a t.any value goes back as one (double_marks.ts).
        if (frame.tag === "double" && Number.isInteger(scalar)) parent.wholeDouble = true;
      } catch (error) {
        if (error instanceof XmlRpcReadError) fail(error.message);
        throw error;
      }
      stack.pop();
      return;
  }
  if (
    frame.text !== "" && kind !== VALUE && kind !== NAME && kind !== METHOD_NAME &&
    NOT_SPACE.test(frame.text)
  ) {
    fail(`unexpected text in <${frame.tag}>`);
  }
  stack.pop();
}

function refuseDoctype(): never {
  throw new XmlRpcReadError(
    -32600,
    "DOCTYPE declarations are refused (no DTDs, entity definitions or external entities)",
  );
}

/** The parser, kept between documents (building one costs more than a small document). */
let reusable: SaxesParser | undefined;

function newParser(): SaxesParser {
  const parser = new SaxesParser({ xmlns: false });
  parser.on("doctype", refuseDoctype);
  parser.on("opentag", onOpenTag);
  parser.on("text", onText);
  parser.on("cdata", onText);
  parser.on("closetag", onCloseTag);
  return parser;
}

function read(text: string, root: "methodCall" | "methodResponse"): Frame {
  doc.stack.length = 0; // a failed document may have left frames behind
  doc.depth = 0;
  doc.top = undefined;
  doc.root = root;
  const parser = reusable ?? newParser();
  // Handlers run synchronously inside write(): no other document can start meanwhile.
  // A document that fails leaves the parser mid-way: it is dropped, not reused.
  reusable = undefined;
  try {
    parser.write(text).close();
  } catch (error) {
    if (error instanceof XmlRpcReadError) throw error;
    throw new XmlRpcReadError(
      -32700,
      `not well-formed XML: ${error instanceof Error ? error.message : error}`,
    );
  }
  reusable = parser;
  const top = doc.top as Frame | undefined;
  doc.top = undefined; // the stack is empty again; the result is not kept
  if (top === undefined) throw new XmlRpcReadError(-32700, "not well-formed XML: no element");
  return top;
}

/**
 * Reads a `<methodCall>`. Throws {@linkcode XmlRpcReadError} on anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readMethodCall } from "./reader.ts";
 *
 * const call = readMethodCall(
 *   "<methodCall><methodName>Calc.add</methodName><params>" +
 *     "<param><value><int>2</int></value></param>" +
 *     "<param><value>three</value></param></params></methodCall>",
 * );
 * assert.deepEqual(call, { method: "Calc.add", params: [2, "three"] });
 * ```
 */
export function readMethodCall(text: string): XmlRpcCall {
  const top = read(text, "methodCall");
  if (!top.method) invalid(NO_METHOD_NAME);
  return { method: top.method, params: top.params ?? [] };
}

/** Why a call whose method name is empty (after trimming, as `<methodName>` is) is refused. */
export const NO_METHOD_NAME = "a <methodCall> needs a non-empty <methodName>";

/** Reads a `<methodResponse>`. Throws {@linkcode XmlRpcReadError} on anything else. */
export function readMethodResponse(text: string): XmlRpcResponse {
  const top = read(text, "methodResponse");
  if (top.has) {
    if (top.params) invalid("a <methodResponse> holds <params> or a <fault>, not both");
    return { ok: false, fault: top.value };
  }
  if (top.params?.length !== 1) invalid("a <methodResponse> needs exactly one <param>");
  return { ok: true, value: top.params[0] };
}
