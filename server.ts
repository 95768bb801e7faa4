/**
 * The server side of Switchboard: one router fed by any number of listeners (JSON-RPC and
 * XML-RPC over HTTP, msgpack-rpc over TCP, AMQP workers), authentication and
 * authorization, and what a server tells about itself (OpenRPC, metrics, access logs).
 * Importing it also lets `connect()` speak every protocol, for handlers that call other
 * servers.
 *
 * @example Serve an interface over HTTP and TCP
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Echo = defineInterface("Echo", {
 *   echo: method({ params: { text: t.string }, result: t.string }),
 * });
 * const server = new Server().register(implement(Echo, { echo: ({ text }) => text }));
 * const http = await server.listenHttp({ port: 0 });
 * const tcp = await server.listenTcp({ port: 0 });
 * for (const url of [http.url, tcp.url]) {
 *   const client = connect(url);
 *   assert.equal(await client.proxy(Echo).echo({ text: "hi" }), "hi");
 *   await client.close();
 * }
 * await server.close();
 * ```
 *
 * @module
 */

import "./src/adapters/deno/all_transports.ts";

export { Server } from "./src/adapters/deno/server.ts";
export type { Address, Listener, ServerOptions } from "./src/adapters/deno/server.ts";
export { Router } from "./src/core/router/router.ts";
export type {
  CallObserver,
  Invocation,
  Logger,
  MethodEntry,
  Middleware,
  RouterOptions,
} from "./src/core/router/router.ts";
export { Limiter } from "./src/core/router/limiter.ts";
export { introspection } from "./src/core/router/introspection.ts";
export { LocalTransport } from "./src/core/client/local.ts";
export { Peer } from "./src/core/client/peer.ts";
export type { PeerLink } from "./src/core/client/peer.ts";
export { isImplementation } from "./src/core/implement.ts";
export { compile, describeValue } from "./src/core/idl/validate.ts";
export type { Check, ParamsCheck } from "./src/core/idl/validate.ts";
export { fieldsSchema, type JsonSchema, toJsonSchema } from "./src/core/idl/schema.ts";
export { openRpcDocument } from "./src/core/idl/openrpc.ts";
export type { OpenRpcContent, OpenRpcDocument, OpenRpcMethod } from "./src/core/idl/openrpc.ts";
export { installMsgpackExtensions } from "./src/core/idl/translators.ts";
export type { MsgpackExtensionHost } from "./src/core/idl/translators.ts";
export { methodNotFound, rpcError } from "./src/core/errors.ts";
export { createHttpApp, DEFAULT_MAX_BODY_BYTES } from "./src/server/http.ts";
export type {
  EventStreamOptions,
  HttpApp,
  HttpAppOptions,
  HttpAuthenticator,
  HttpEnv,
  HttpRequestInfo,
  XmlRpcHandler,
} from "./src/server/http.ts";
export type { HttpMiddleware } from "./src/server/http_middleware.ts";
export type {
  HttpAddress,
  HttpListener,
  HttpListenerOptions,
  HttpOptions,
} from "./src/adapters/deno/http.ts";
export { CorsPolicy, parseOrigin } from "./src/server/cors.ts";
export type { CorsOptions } from "./src/server/cors.ts";
export { serveTcp } from "./src/adapters/deno/tcp_listener.ts";
export type { TcpAddress, TcpListener } from "./src/adapters/deno/tcp_listener.ts";
export type { PeerInfo, TcpOptions, TopicDelivery } from "./src/server/tcp.ts";
export {
  DEFAULT_MAX_TOPICS,
  type Subscriber,
  type SubscribeReply,
  Topics,
} from "./src/server/tcp_pubsub.ts";
export { TopicReplay } from "./src/server/topic_replay.ts";
export type { BufferedEvent, ReplayOptions, Resume } from "./src/server/topic_replay.ts";
export type { WebSocketOptions } from "./src/server/ws.ts";
export type { StreamLimits } from "./src/wire/msgpackrpc/streams.ts";
export { serveAmqp } from "./src/server/amqp.ts";
export type { AmqpListener, AmqpServeOptions } from "./src/server/amqp.ts";
export type { AmqpStreamLimits } from "./src/server/amqp_streams.ts";
export { MemoryDedupeStore } from "./src/server/amqp_dedupe.ts";
export type { DedupeStore } from "./src/server/amqp_dedupe.ts";
export { AuthGate } from "./src/auth/gate.ts";
export type { AuthGateOptions } from "./src/auth/gate.ts";
export type { AuthBackend, Proof } from "./src/auth/types.ts";
export { AUTH_HELLO, AUTH_LOGIN } from "./src/auth/types.ts";
export { sharedSecretBackend } from "./src/auth/shared_secret.ts";
export { MAX_PASSWORD_FIELD, passwordBackend } from "./src/auth/password.ts";
export type { PasswordCheck } from "./src/auth/password.ts";
export { bearerBackend, MAX_TOKEN_LENGTH } from "./src/auth/bearer.ts";
export type { TokenCheck } from "./src/auth/bearer.ts";
export { httpAuthenticator, SESSION_SCHEME, unauthorizedResponse } from "./src/auth/http.ts";
export type { HttpAuthOptions, HttpLoginResult } from "./src/auth/http.ts";
export { transportFetch } from "./src/client/http_auth.ts";
export { Metrics } from "./src/observe/metrics.ts";
export type { Labels, MetricsOptions, ProcessProbe, Sample } from "./src/observe/metrics.ts";
export type { CallStats, Series } from "./src/observe/call_stats.ts";
export { AccessLog } from "./src/observe/access_log.ts";
export type { AccessLogOptions, LogFormat, LogLevel } from "./src/observe/access_log.ts";
export type { OtlpExportOptions } from "./src/observe/otlp_options.ts";
export type { SpanQueueOptions } from "./src/observe/span_queue.ts";
