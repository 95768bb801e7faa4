/**
 * The API explorer served at `GET /`: one self-contained HTML page (no CDN, no build
 * step) listing the interfaces, methods, parameter and result types, docs and error
 * names — the same definitions the OpenRPC document is made from — with a form per
 * method that calls it over JSON-RPC and shows the result or the error.
 *
 * @module
 */

import type { InterfaceDef } from "../core/idl/interface.ts";
import { isVoidResult } from "../core/idl/interface.ts";
import type { Type } from "../core/idl/types.ts";
import { isSimple, unknownKind } from "../core/idl/kinds.ts";
import { ErrorCode } from "../core/errors.ts";
import { EXPLORER_SCRIPT, EXPLORER_STYLE } from "./explorer_page.ts";

/** How the page's form asks for one parameter. */
export type InputKind = "int" | "float" | "string" | "bool" | "choice" | "json";

/** One parameter as the page shows it. */
export interface ExplorerParam {
  /** Its name. */
  name: string;
  /** Its type, written as in the IDL (`int`, `array<string>`, `Item{…}`). */
  type: string;
  /** Whether it may be left out. */
  optional: boolean;
  /** The input the form uses. */
  input: InputKind;
  /** The values of a literal/enumeration type. */
  choices?: (string | number | boolean)[];
  /** Its documentation. */
  doc?: string;
}

/** One method as the page shows it. */
export interface ExplorerMethod {
  /** `Interface.method`. */
  name: string;
  /** Its documentation. */
  doc?: string;
  /** Parameters in declared order. */
  params: ExplorerParam[];
  /** The result type (`void` when none). */
  result: string;
  /** The result is a stream: the page shows its items as they come. */
  stream?: true;
  /** Application errors it declares. */
  errors: string[];
}

/** One interface as the page shows it. */
export interface ExplorerInterface {
  /** Its name. */
  name: string;
  /** Its documentation. */
  doc?: string;
  /** Its methods. */
  methods: ExplorerMethod[];
}

/** A type written as in the IDL, for people. */
export function typeText(type: Type, depth = 0): string {
  if (isSimple(type)) return type.kind;
  switch (type.kind) {
    case "array":
      return `array<${typeText(type.items, depth)}>`;
    case "map":
      return `map<string, ${typeText(type.values, depth)}>`;
    case "optional":
      return `${typeText(type.inner, depth)}?`;
    case "nullable":
      return `${typeText(type.inner, depth)} | null`;
    case "literal":
      return type.values.map((v) => JSON.stringify(v)).join(" | ");
    case "stream":
      return `stream<${typeText(type.items, depth)}>`;
    case "struct": {
      // Nested structs are written out twice at most; deeper ones by name only.
      if (depth >= 2) return type.name;
      const fields = Object.entries(type.fields)
        .map(([name, field]) => `${name}: ${typeText(field, depth + 1)}`);
      return `${type.name} { ${fields.join(", ")} }`;
    }
    default:
      return unknownKind(type);
  }
}

function inputOf(type: Type): { input: InputKind; choices?: ExplorerParam["choices"] } {
  const inner = type.kind === "optional" ? type.inner : type;
  switch (inner.kind) {
    case "int":
    case "int64":
      return { input: "int" };
    case "float":
      return { input: "float" };
    case "string":
    case "datetime":
      return { input: "string" };
    case "bool":
      return { input: "bool" };
    case "literal":
      return { input: "choice", choices: [...inner.values] };
    case "bytes":
    case "any":
    case "array":
    case "map":
    case "struct":
    case "optional":
    case "nullable":
    case "stream":
      return { input: "json" };
    default:
      return unknownKind(inner, { input: "json" });
  }
}

/** What the page shows of `interfaces` (introspection's `system`/`rpc` left out). */
export function explorerData(interfaces: readonly InterfaceDef[]): ExplorerInterface[] {
  return interfaces.filter((i) => i.name !== "system" && i.name !== "rpc").map((iface) => ({
    name: iface.name,
    doc: iface.doc,
    methods: Object.entries(iface.methods).map(([name, def]) => ({
      name: `${iface.name}.${name}`,
      doc: def.doc,
      params: Object.entries(def.params).map(([param, type]) => ({
        name: param,
        type: typeText(type),
        optional: type.kind === "optional",
        doc: type.doc,
        ...inputOf(type),
      })),
      result: isVoidResult(def.result) ? "void" : typeText(def.result),
      ...(def.result?.kind === "stream" ? { stream: true as const } : {}),
      errors: [...def.errors],
    })),
  }));
}

/** JSON that is safe inside a `<script>` element (no `</script>`, no `<!--`). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(
    /\u2028|\u2029/g,
    (c) => c === "\u2028" ? "\\u2028" : "\\u2029",
  );
}

/** Names of the known codes: JSON-RPC sends protocol errors without one. */
const codeNames = Object.fromEntries(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

/** The explorer page for `interfaces`. */
export function explorerHtml(interfaces: readonly InterfaceDef[], title = "Switchboard"): string {
  const safeTitle = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${safeTitle} — API explorer</title>
<style>${EXPLORER_STYLE}</style>
</head>
<body>
<header>
<h1>${safeTitle} <small>API explorer</small></h1>
<nav><a href="openrpc.json">OpenRPC document</a> · <a href="healthz">health</a> ·
JSON-RPC and XML-RPC at <code>POST /</code> (also <code>/rpc</code>, <code>/RPC2</code>)</nav>
<input id="filter" type="search" placeholder="filter methods" aria-label="filter methods">
</header>
<main id="interfaces"></main>
<script id="api" type="application/json">${scriptJson(explorerData(interfaces))}</script>
<script id="codes" type="application/json">${scriptJson(codeNames)}</script>
<script type="module">${EXPLORER_SCRIPT}</script>
</body>
</html>
`;
}

/** `GET /`: the explorer page as a response. */
export function explorerResponse(interfaces: readonly InterfaceDef[]): Response {
  return new Response(explorerHtml(interfaces), {
    headers: {
      "content-type": "text/html; charset=utf-8",
      // The page runs only its own inline script and talks only to this origin.
      "content-security-policy":
        "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; " +
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
    },
  });
}
