/**
 * XML-RPC for Switchboard: importing this module lets `connect(url, { protocol: "xmlrpc" })`
 * speak XML-RPC over HTTP(S); the transport and both ends' codec are here too.
 *
 * @example Call an XML-RPC server
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import "@switchboard/rpc/xmlrpc";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   half: method({ params: { n: t.int }, result: t.float }),
 * });
 * const server = new Server().register(implement(Calc, { half: ({ n }) => n / 2 }));
 * const http = await server.listenHttp({ port: 0 });
 * const client = connect(http.url, { protocol: "xmlrpc" });
 * assert.equal(await client.proxy(Calc).half({ n: 3 }), 1.5);
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

export { HttpXmlRpcTransport } from "./src/client/http_xmlrpc.ts";
export {
  decodeMethodResponse,
  encodeMethodCall,
  encodeMethodResponse,
  faultError,
  faultStruct,
  handleXmlRpc,
  xmlRpcHandler,
  XmlRpcReadError,
  XmlRpcWriteError,
} from "./src/wire/xmlrpc/codec.ts";
export type {
  MethodLookup,
  XmlRpcCallBase,
  XmlRpcRequestHandler,
  XmlRpcRequestOptions,
} from "./src/wire/xmlrpc/codec.ts";
