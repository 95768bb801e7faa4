/**
 * Switchboard: typed RPC interfaces served over JSON-RPC, XML-RPC and msgpack-rpc from
 * one router, and a transport-agnostic client.
 *
 * @example Define, implement, serve and call an interface
 * ```ts
 * import { connect, defineInterface, implement, method, Server, t } from "@switchboard/rpc";
 *
 * const Calculator = defineInterface("Calculator", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 *
 * const server = new Server();
 * server.register(implement(Calculator, { add: ({ a, b }) => a + b }));
 * const http = await server.listenHttp({ port: 0 });
 *
 * const client = connect(http.url);
 * const calc = client.proxy(Calculator);
 * console.assert((await calc.add({ a: 2, b: 3 })) === 5);
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

export * from "./src/idl/types.ts";
export * from "./src/idl/interface.ts";
export {
  compile,
  describeValue,
  validate,
  validateParams,
  ValidationError,
} from "./src/idl/validate.ts";
export type { Check, ParamsCheck } from "./src/idl/validate.ts";
export { fieldsSchema, type JsonSchema, toJsonSchema } from "./src/idl/schema.ts";
export { openRpcDocument } from "./src/idl/openrpc.ts";
export type { OpenRpcDocument, OpenRpcMethod } from "./src/idl/openrpc.ts";
export * from "./src/router/errors.ts";
export * from "./src/router/context.ts";
export * from "./src/router/implement.ts";
export { Router } from "./src/router/router.ts";
export type {
  Invocation,
  Logger,
  MethodEntry,
  Middleware,
  RouterOptions,
} from "./src/router/router.ts";
export { Client, toRpcError } from "./src/client/client.ts";
export type { BatchCall, BatchResult, ClientOptions } from "./src/client/client.ts";
export type { OutgoingCall, Transport } from "./src/client/transport.ts";
export { connect, registerTransport } from "./src/client/connect.ts";
export type { ConnectOptions, TransportFactory } from "./src/client/connect.ts";
export { LocalTransport } from "./src/client/local.ts";
export { HttpJsonRpcTransport } from "./src/client/http_jsonrpc.ts";
export type { HttpTransportOptions } from "./src/client/http_jsonrpc.ts";
export { Server } from "./src/server/server.ts";
export type { Address, Listener, ServerOptions } from "./src/server/server.ts";
export { createHttpApp, DEFAULT_MAX_BODY_BYTES } from "./src/transports/http.ts";
export type { HttpAuthenticator, HttpListener, HttpOptions } from "./src/transports/http.ts";
