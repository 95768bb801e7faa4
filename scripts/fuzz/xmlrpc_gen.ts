/**
 * XML-RPC inputs built from the grammar: `<methodCall>` documents from the corpus with
 * structural mutations (every scalar spelling, untyped values, entities, CDATA, comments,
 * DOCTYPEs with entity bombs and external entities, deep and wide values, unknown and
 * misplaced elements, `system.multicall` bombs), then byte-level mutations.
 *
 * @module
 */

import { encodeBase64 } from "../../src/core/base64.ts";
import type { Rng } from "./rng.ts";
import { mutateBytes } from "./mutate_bytes.ts";
import {
  type CallSpec,
  Deep,
  Entries,
  Ext,
  mutateCall,
  randomString,
  RawText,
  validCalls,
} from "./values.ts";

const CORPUS = validCalls();
const encoder = new TextEncoder();

function escape(rng: Rng, s: string): string {
  // Characters XML 1.0 forbids (most controls, lone surrogates) stay in: the server must refuse them.
  const text = s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  if (rng.chance(0.05)) return `<![CDATA[${s.replace(/]]>/g, "")}]]>`;
  if (rng.chance(0.05)) {
    return [...text].map((c) => `&#x${c.codePointAt(0)!.toString(16)};`).join("");
  }
  return text;
}

const INT_TAGS = ["int", "i4", "i8", "ex:i8"];
const JUNK = [
  "&unknown;",
  "&#0;",
  "&#xD800;",
  "&#x110000;",
  "&lt",
  "<!-- c -->",
  "<?pi x?>",
  "<x/>",
  "<value/>",
  "</value>",
  "<nil/>",
  "<int>1</int>",
  "<struct>",
  "\u0000",
  "]]>",
  "<![CDATA[",
];

/** Writes a value as an XML-RPC `<value>` with random (mostly valid) spelling variations. */
export function emitValue(rng: Rng, v: unknown): string {
  if (v instanceof Deep) {
    return v.objects
      ? "<value><struct><member><name>a</name>".repeat(v.depth) + "<value>x</value>" +
        "</member></struct></value>".repeat(v.depth)
      : "<value><array><data>".repeat(v.depth) + "<value><int>1</int></value>" +
        "</data></array></value>".repeat(v.depth);
  }
  let inner: string;
  if (v === null || v === undefined || v instanceof Ext) {
    inner = rng.pick(["<nil/>", "<ex:nil/>", "<nil></nil>"]);
  } else if (v instanceof RawText) inner = `<double>${v.text}</double>`;
  else if (typeof v === "boolean") {
    inner = `<boolean>${v ? rng.pick(["1", "true"]) : "0"}</boolean>`;
  } else if (
    typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v) && rng.chance(0.7))
  ) {
    const tag = rng.pick(INT_TAGS);
    inner = `<${tag}>${v}</${tag}>`;
  } else if (typeof v === "number") {
    inner = `<double>${rng.chance(0.1) ? v.toExponential() : v}</double>`;
  } else if (typeof v === "string") {
    inner = rng.chance(0.5) ? escape(rng, v) : `<string>${escape(rng, v)}</string>`;
  } else if (v instanceof Date) {
    inner = `<dateTime.iso8601>${
      rng.chance(0.8)
        ? v.toISOString().replace(/[-]|\.\d+Z$/g, "")
        : rng.pick(["20240230T00:00:00", "x", "99999999T99:99:99", ""])
    }</dateTime.iso8601>`;
  } else if (v instanceof Uint8Array) {
    inner = `<base64>${
      rng.chance(0.9) ? encodeBase64(v) : rng.pick(["!!", "A", "AAA=A", "\n"])
    }</base64>`;
  } else if (Array.isArray(v)) {
    inner = `<array><data>${v.map((x) => emitValue(rng, x)).join("")}</data></array>`;
  } else {
    const entries = v instanceof Entries ? v.entries : Object.entries(v as object);
    let members = entries.map(([k, x]) =>
      `<member><name>${escape(rng, String(k))}</name>${emitValue(rng, x)}</member>`
    ).join("");
    if (entries.length && rng.chance(0.05)) members += members; // duplicate members
    inner = `<struct>${members}</struct>`;
  }
  if (rng.chance(0.02)) inner = rng.pick(JUNK) + inner;
  const ws = rng.chance(0.1) ? "\n  " : "";
  return `<value>${ws}${inner}${ws}</value>`;
}

/** A `<methodCall>` document for a call. */
export function methodCall(rng: Rng, call: CallSpec): string {
  const params = Array.isArray(call.params)
    ? call.params
    : call.params === undefined
    ? []
    : [call.params];
  const head = rng.chance(0.8)
    ? '<?xml version="1.0"?>\n'
    : rng.pick(["", '<?xml version="1.0" encoding="UTF-16"?>', "\ufeff", '<?xml version="1.1"?>']);
  const body = params.map((p) => `<param>${emitValue(rng, p)}</param>`).join("");
  return `${head}<methodCall><methodName>${escape(rng, call.method)}</methodName>` +
    `<params>${body}</params></methodCall>`;
}

const LAUGHS =
  '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>';
const XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>';

/** A whole `<methodCall>` body: structural mutations, then (often) byte-level ones. */
export function xmlBody(rng: Rng): Uint8Array {
  let call = rng.pick(CORPUS);
  if (rng.chance(0.7)) call = mutateCall(rng, call);
  let text: string;
  switch (rng.int(12)) {
    case 0: // entity bombs and external entities, in place of the prolog or inside a value
      text = methodCall(rng, { method: "Echo.echo", params: [rng.pick(["&lol3;", "&xxe;", "x"])] })
        .replace("<methodCall>", `${rng.pick([LAUGHS, XXE, "<!DOCTYPE methodCall>"])}<methodCall>`);
      break;
    case 1: { // multicall: many sub-calls, some nested, some malformed
      const n = rng.size(1000) + 1;
      const subs = Array.from({ length: n }, () => {
        const c = rng.chance(0.97) ? rng.pick(CORPUS) : mutateCall(rng, rng.pick(CORPUS));
        return {
          methodName: rng.chance(0.05) ? "system.multicall" : c.method,
          params: Array.isArray(c.params) ? c.params : [c.params],
        };
      });
      text = methodCall(rng, {
        method: "system.multicall",
        params: [rng.chance(0.95) ? subs : randomString(rng)],
      });
      break;
    }
    case 2: // a misplaced or unknown element somewhere
      text = methodCall(rng, call).replace(
        rng.pick(["<params>", "<param>", "<value>", "</methodName>"]),
        (m) => m + rng.pick(JUNK),
      );
      break;
    case 3:
      text = rng.pick([
        "",
        "<methodCall/>",
        "<methodCall></methodCall>",
        "<methodResponse/>",
        "<a/>",
        "<methodCall><methodName></methodName></methodCall>",
        '<?xml version="1.0"?>',
        '<methodCall xmlns="urn:x" a="1"><methodName>Echo.now</methodName></methodCall>',
      ]);
      break;
    default:
      text = methodCall(rng, call);
  }
  let bytes: Uint8Array = encoder.encode(text);
  if (rng.chance(0.5)) {
    bytes = mutateBytes(rng, bytes, encoder.encode(methodCall(rng, rng.pick(CORPUS))));
  }
  return bytes;
}

/** The known call interleaved with the fuzz inputs (expects `<int>5</int>`). */
export const NORMAL_CALL =
  '<?xml version="1.0"?><methodCall><methodName>Calculator.add</methodName>' +
  "<params><param><value><int>2</int></value></param><param><value><int>3</int></value></param>" +
  "</params></methodCall>";
