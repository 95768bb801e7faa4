/**
 * Switchboard: typed RPC interfaces served over JSON-RPC, XML-RPC and msgpack-rpc from
 * one router, and a transport-agnostic client.
 *
 * @example Define, implement, serve and call an interface
 * ```ts
 * import assert from "node:assert/strict";
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
 * assert.equal(await calc.add({ a: 2, b: 3 }), 5);
 * await client.close();
 * await server.close();
 * ```
 *
 * @module
 */

export * from "./src/core/idl/types.ts";
export * from "./src/core/idl/interface.ts";
export {
  compile,
  describeValue,
  validate,
  validateParams,
  ValidationError,
} from "./src/core/idl/validate.ts";
export type { Check, ParamsCheck } from "./src/core/idl/validate.ts";
export { fieldsSchema, type JsonSchema, toJsonSchema } from "./src/core/idl/schema.ts";
export { openRpcDocument } from "./src/core/idl/openrpc.ts";
export type { OpenRpcDocument, OpenRpcMethod } from "./src/core/idl/openrpc.ts";
export * from "./src/core/errors.ts";
export * from "./src/core/context.ts";
export * from "./src/core/implement.ts";
export { Router } from "./src/core/router/router.ts";
export { Limiter } from "./src/core/router/limiter.ts";
export type {
  Invocation,
  Logger,
  MethodEntry,
  Middleware,
  RouterOptions,
} from "./src/core/router/router.ts";
export { Client, toRpcError } from "./src/core/client/client.ts";
export type { BatchCall, BatchResult, ClientOptions } from "./src/core/client/client.ts";
export type { OutgoingCall, Transport } from "./src/core/client/transport.ts";
export { connect, registerTransport } from "./src/client/connect.ts";
import "./src/client/all_transports.ts"; // connect() speaks every scheme
export type { ConnectOptions, TransportFactory } from "./src/client/connect.ts";
export { LocalTransport } from "./src/core/client/local.ts";
export { HttpJsonRpcTransport } from "./src/client/http_jsonrpc.ts";
export type { HttpTransportOptions } from "./src/client/http_jsonrpc.ts";
export { MultiClient } from "./src/client/multi.ts";
export type { MultiClientOptions, RouteMap, RouteTarget } from "./src/client/multi.ts";
export { HttpXmlRpcTransport } from "./src/client/http_xmlrpc.ts";
export {
  decodeMethodResponse,
  encodeMethodCall,
  handleXmlRpc,
  xmlRpcHandler,
} from "./src/wire/xmlrpc/codec.ts";
export type {
  MethodLookup,
  XmlRpcCallBase,
  XmlRpcRequestHandler,
  XmlRpcRequestOptions,
} from "./src/wire/xmlrpc/codec.ts";
export { AmqpTransport } from "./src/client/amqp.ts";
export type { AmqpConnectOptions } from "./src/client/amqp.ts";
export { Server } from "./src/server/server.ts";
export type { Address, Listener, ServerOptions } from "./src/server/server.ts";
export { createHttpApp, DEFAULT_MAX_BODY_BYTES } from "./src/server/http.ts";
export type {
  HttpApp,
  HttpAuthenticator,
  HttpListener,
  HttpOptions,
  XmlRpcHandler,
} from "./src/server/http.ts";
export { MemoryDedupeStore, serveAmqp } from "./src/server/amqp.ts";
export type { AmqpListener, AmqpServeOptions, DedupeStore } from "./src/server/amqp.ts";
export { serveTcp } from "./src/server/tcp.ts";
export type { PeerInfo, TcpAddress, TcpListener, TcpOptions } from "./src/server/tcp.ts";
export { exponentialBackoff, missedBeats } from "./src/core/backoff.ts";
export type { HeartbeatPolicy, ReconnectPolicy } from "./src/core/backoff.ts";
export { TcpTransport } from "./src/client/tcp.ts";
export type { TcpTransportOptions } from "./src/client/tcp.ts";
export { MsgpackExtension } from "./src/wire/msgpackrpc/extension.ts";
export { Peer } from "./src/core/client/peer.ts";
export type { PeerLink } from "./src/core/client/peer.ts";
export { AuthGate } from "./src/auth/gate.ts";
export type { AuthGateOptions } from "./src/auth/gate.ts";
export type { AuthBackend, AuthCredentials, Proof } from "./src/auth/types.ts";
export { AUTH_HELLO, AUTH_LOGIN } from "./src/auth/types.ts";
export { sharedSecretBackend, sharedSecretCredentials } from "./src/auth/shared_secret.ts";
export { MAX_PASSWORD_FIELD, passwordBackend, passwordCredentials } from "./src/auth/password.ts";
export type { PasswordCheck } from "./src/auth/password.ts";
export { bearerBackend, bearerCredentials, MAX_TOKEN_LENGTH } from "./src/auth/bearer.ts";
export type { TokenCheck } from "./src/auth/bearer.ts";
export { httpAuthenticator, SESSION_SCHEME, unauthorizedResponse } from "./src/auth/http.ts";
export type { HttpAuthOptions, HttpLoginResult } from "./src/auth/http.ts";
export { authenticatedFetch, transportFetch } from "./src/client/http_auth.ts";
export type { HttpRequestInfo } from "./src/server/http.ts";
export { installMsgpackExtensions, registerType } from "./src/core/idl/translators.ts";
export type {
  MsgpackExtensionHost,
  RegisteredType,
  TypeTranslator,
} from "./src/core/idl/translators.ts";
export { publisher, subscribe } from "./src/client/tcp_pubsub.ts";
export type { Publisher } from "./src/client/tcp_pubsub.ts";
