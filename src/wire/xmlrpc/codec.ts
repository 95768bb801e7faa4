/**
 * XML-RPC (http://xmlrpc.com/spec.md, plus the common `<nil/>` and `<i8>` extensions):
 * text in, calls out; outcomes in, text out. Knows nothing of sockets.
 *
 * Types: `<i4>`/`<int>`, `<i8>`, `<double>`, `<boolean>`, `<string>` (and untyped
 * values), `<dateTime.iso8601>` (read as UTC when it names no zone, written in UTC whole
 * seconds), `<base64>` (as `Uint8Array`), `<struct>`, `<array>`, `<nil/>` (null).
 *
 * Results are written by the method's IDL result type: a `t.float` 3 goes as
 * `<double>3</double>`, a `t.int64` as `<i8>`, and a `t.int` beyond 32 bits is a fault
 * rather than a silently different type. Errors travel as faults with exactly `faultCode`
 * and `faultString` (Ruby's xmlrpc refuses any other member): the code, and the message
 * after the error's name (`NotFound: no such user`). A Switchboard client says so with the
 * `x-switchboard-client` header and gets the message as it is, plus `faultName` (when the
 * code does not imply the name) and `faultData`, so it re-raises the same named error.
 *
 * Params are positional, in the order the IDL declares them, at both ends: a typed proxy
 * sends named params by position, and one struct is one struct param (see `positional.ts`)
 * unless a Switchboard client says it is params by name (`x-switchboard-params: named`).
 *
 * @module
 */

import type { Call, Outcome } from "../../core/context.ts";
import { type ErrorShape, receivedError } from "../../core/errors.ts";
import type { Fields, Type } from "../../core/idl/types.ts";
import { readMethodCall, readMethodResponse, XmlRpcReadError } from "./reader.ts";
import { escapeXml, writeTyped, writeUntyped, XmlRpcWriteError } from "./writer.ts";
import { callParams, isNamed, namesOnlyDeclared, toPositional } from "./positional.ts";
import type { MethodLookup, XmlRpcCallBase, XmlRpcRequestOptions } from "./request.ts";
import { MULTICALL, runMulticall } from "./multicall.ts";

export type { MethodLookup, XmlRpcCallBase, XmlRpcRequestOptions } from "./request.ts";

export { readMethodCall, readMethodResponse, XmlRpcReadError } from "./reader.ts";
export type { XmlRpcCall, XmlRpcResponse } from "./reader.ts";
export { XmlRpcWriteError } from "./writer.ts";
import { cannotCarry, encodeFault, faultStruct } from "./fault.ts";
export { encodeFault, faultStruct };

const HEAD = '<?xml version="1.0"?>\n';

/**
 * Encodes a `<methodCall>`; params are positional (an object is sent as one struct).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMethodCall } from "@switchboard/rpc/xmlrpc";
 *
 * assert.match(encodeMethodCall("Calc.add", [2, 0.5]), /<int>2<\/int>.*<double>0.5<\/double>/);
 * ```
 */
export function encodeMethodCall(method: string, params?: unknown, declared?: Fields): string {
  let list = params === undefined ? [] : Array.isArray(params) ? params : [params];
  let types: (Type | undefined)[] = [];
  // Params by name are one struct: errors name its members `params.x`, not `params[0].x`.
  let paths = isNamed(params) ? ["params"] : list.map((_, i) => `params[${i}]`);
  // A typed call: named params go by position, in declared order, written by their types
  // (unless they name an undeclared param: then by name, for the server to say which).
  if (declared && (!isNamed(params) || namesOnlyDeclared(params, declared))) {
    ({ values: list, types, paths } = toPositional(params, declared));
  }
  let out = `${HEAD}<methodCall><methodName>${escapeXml(method, "method")}</methodName><params>`;
  for (let i = 0; i < list.length; i++) {
    out += `<param>${writeParam(list[i], types[i], paths[i] ?? `params[${i}]`)}</param>`;
  }
  return out + "</params></methodCall>";
}

/**
 * A param written by its declared type where that helps (`<double>`, `<i8>`), and by
 * value where the type cannot carry it (an int beyond 32 bits goes as it would untyped,
 * and the server decides).
 */
function writeParam(value: unknown, type: Type | undefined, path: string): string {
  if (type) {
    try {
      return writeTyped(value, type, path);
    } catch (error) {
      if (!(error instanceof XmlRpcWriteError)) throw error;
    }
  }
  return writeUntyped(value, path);
}

/**
 * Encodes a successful `<methodResponse>`, typed by `type` when given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { t } from "@switchboard/rpc";
 * import { decodeMethodResponse, encodeMethodResponse } from "@switchboard/rpc/xmlrpc";
 *
 * const text = encodeMethodResponse(3, t.float);
 * assert.ok(text.includes("<double>3</double>"));
 * assert.deepEqual(decodeMethodResponse(encodeMethodResponse({ ids: [1, 2] })), {
 *   ok: true,
 *   value: { ids: [1, 2] },
 * });
 * ```
 */
export function encodeMethodResponse(value: unknown, type?: Type): string {
  const written = type ? writeTyped(value, type, "result") : writeUntyped(value, "result");
  return `${HEAD}<methodResponse><params><param>${written}</param></params></methodResponse>`;
}

export { NAMED_PARAMS_HEADER, SWITCHBOARD_CLIENT_HEADER } from "../http.ts";

/**
 * The error a fault value stands for (the inverse of {@linkcode faultStruct}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { faultError } from "@switchboard/rpc/xmlrpc";
 *
 * assert.deepEqual(
 *   faultError({ faultCode: -32000, faultString: "no such user", faultName: "NotFound" }),
 *   { code: -32000, name: "NotFound", message: "no such user" },
 * );
 * assert.equal(faultError("not a struct").code, -32603);
 * ```
 */
export function faultError(fault: unknown): ErrorShape {
  const f = (typeof fault === "object" && fault !== null ? fault : {}) as Record<string, unknown>;
  return receivedError(
    { code: f.faultCode, name: f.faultName, message: f.faultString, data: f.faultData },
    { code: -32603, message: "fault without a faultString" },
  );
}

/**
 * Client side: the outcome a `<methodResponse>` carries. Throws
 * {@linkcode XmlRpcReadError} when the text is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMethodResponse } from "@switchboard/rpc/xmlrpc";
 *
 * const outcome = decodeMethodResponse(
 *   "<methodResponse><fault><value><struct>" +
 *     "<member><name>faultCode</name><value><int>-32000</int></value></member>" +
 *     "<member><name>faultString</name><value>no such user</value></member>" +
 *     "<member><name>faultName</name><value>NotFound</value></member>" +
 *     "</struct></value></fault></methodResponse>",
 * );
 * assert.deepEqual(outcome, {
 *   ok: false,
 *   error: { code: -32000, name: "NotFound", message: "no such user" },
 * });
 * ```
 */
export function decodeMethodResponse(text: string): Outcome {
  const response = readMethodResponse(text);
  return response.ok
    ? { ok: true, value: response.value }
    : { ok: false, error: faultError(response.fault) };
}

/**
 * Runs one XML-RPC request body against a dispatcher and returns the response text
 * (always a `<methodResponse>`: malformed or hostile input becomes a fault). With a
 * `lookup` (a `Router`), params by name are recognised and results typed by the IDL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { handleXmlRpc } from "@switchboard/rpc/xmlrpc";
 * import { Router } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   half: method({ params: { n: t.int }, result: t.float }),
 * });
 * const router = new Router().register(implement(Calc, { half: ({ n }) => n / 2 }));
 * const reply = await handleXmlRpc(
 *   "<methodCall><methodName>Calc.half</methodName><params>" +
 *     "<param><value><int>6</int></value></param></params></methodCall>",
 *   (call) => router.dispatch(call),
 *   {},
 *   router,
 * );
 * assert.match(reply, /<double>3<\/double>/);
 * ```
 */
export async function handleXmlRpc(
  text: string,
  dispatch: (call: Call) => Promise<Outcome>,
  base: XmlRpcCallBase = {},
  lookup?: MethodLookup,
  options: XmlRpcRequestOptions = {},
): Promise<string> {
  // Read only when needed: over HTTP each is a header lookup, on every call otherwise.
  const named = () => options.namedFaults ?? false;
  let request;
  try {
    request = readMethodCall(text);
  } catch (error) {
    if (!(error instanceof XmlRpcReadError)) throw error;
    const prefix = error.code === -32700 ? "Parse error" : "Invalid Request";
    return encodeFault({
      code: error.code,
      name: error.name,
      message: `${prefix}: ${error.message}`,
    }, named());
  }
  const { method } = request;
  if (method === MULTICALL && multicallServed(lookup, base)) {
    return runMulticall(request.params, dispatch, base, lookup, options);
  }
  const def = lookup?.resolve(method, base.caller)?.def;
  const params = callParams(request.params, def?.params, options);
  const outcome = await dispatch({ ...base, method, params, protocol: "xmlrpc" });
  if (!outcome.ok) return encodeFault(outcome.error, named());
  try {
    return encodeMethodResponse(outcome.value, def?.result);
  } catch (error) {
    if (!(error instanceof XmlRpcWriteError)) throw error;
    return encodeFault(cannotCarry(method, error), named());
  }
}

/**
 * Whether this codec answers `system.multicall` itself: unless the router says it serves no
 * such method (introspection off) or the listener hides it. Without a lookup it cannot
 * tell, and the convention is XML-RPC's, so it does: each entry still reaches only what a
 * single call could.
 */
function multicallServed(lookup: MethodLookup | undefined, base: XmlRpcCallBase): boolean {
  if (lookup && lookup.resolve(MULTICALL, base.caller) === undefined) return false;
  return base.expose?.(MULTICALL) ?? true;
}

/** An XML-RPC request handler as the HTTP transport takes it (`HttpOptions.xmlrpc`). */
export type XmlRpcRequestHandler = (
  body: string,
  dispatch: (call: Call) => Promise<Outcome>,
  base: XmlRpcCallBase,
  options?: XmlRpcRequestOptions,
) => Promise<string>;

/**
 * The HTTP transport's XML-RPC handler for a router (or any {@linkcode MethodLookup}),
 * which types params and results by the IDL. `Server` installs it by default.
 *
 * @example Serve XML-RPC from a bare router
 * ```ts
 * import assert from "node:assert/strict";
 * import { createHttpApp, Router } from "@switchboard/rpc/server";
 * import { xmlRpcHandler } from "@switchboard/rpc/xmlrpc";
 *
 * const router = new Router();
 * const app = createHttpApp(router, { xmlrpc: xmlRpcHandler(router) });
 * const response = await app.fetch(
 *   new Request("http://x/RPC2", {
 *     method: "POST",
 *     headers: { "content-type": "text/xml" },
 *     body: "<methodCall><methodName>nope</methodName></methodCall>",
 *   }),
 * );
 * assert.match(await response.text(), /<name>faultCode<\/name><value><int>-32601<\/int>/);
 * ```
 */
export function xmlRpcHandler(lookup?: MethodLookup): XmlRpcRequestHandler {
  return (body, dispatch, base, options) => handleXmlRpc(body, dispatch, base, lookup, options);
}
