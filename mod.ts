/**
 * Switchboard for callers and component authors: the IDL, `implement`, the error model,
 * and a client that speaks JSON-RPC over HTTP. It runs unchanged in Deno, Node and
 * browsers and needs no permission but the network.
 *
 * Other protocols and the server side are separate entry points, so a caller downloads
 * only what it uses: `@switchboard/rpc/xmlrpc`, `@switchboard/rpc/tcp` (msgpack-rpc),
 * `@switchboard/rpc/amqp`, `@switchboard/rpc/server`, `@switchboard/rpc/deploy`, and the
 * `switchboard` command at `@switchboard/rpc/cli`. Importing a protocol's entry point
 * lets `connect()` speak its URL scheme.
 *
 * @example Define an interface, implement it, call it
 * ```ts
 * import assert from "node:assert/strict";
 * import { connect, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Server } from "@switchboard/rpc/server";
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
export { typeName } from "./src/core/idl/type_name.ts";
export {
  type CallOptions,
  defineInterface,
  type InterfaceDef,
  type InterfaceProxy,
  method,
  type MethodDef,
  type MethodOptions,
  type Methods,
  type ParamsOf,
  type ProxyArgs,
  type ProxyResult,
  type ResultOf,
  type VoidResult,
} from "./src/core/idl/interface.ts";
export { validate, validateParams, ValidationError } from "./src/core/idl/validate.ts";
export {
  defineError,
  type ErrorClass,
  ErrorCode,
  type ErrorShape,
  RpcError,
} from "./src/core/errors.ts";
export type {
  Call,
  CallContext,
  ClientLike,
  Identity,
  Outcome,
  PeerLike,
  TraceCarrier,
} from "./src/core/context.ts";
export {
  type Handler,
  type Handlers,
  implement,
  IMPLEMENTATION,
  type Implementation,
  type ImplementOptions,
} from "./src/core/implement.ts";
export { Client } from "./src/core/client/client.ts";
export type { BatchCall, BatchResult, ClientOptions, Publisher } from "./src/core/client/client.ts";
export type {
  OutgoingCall,
  SubscribeOptions,
  TopicGap,
  Transport,
} from "./src/core/client/transport.ts";
export type { HeartbeatPolicy } from "./src/core/backoff.ts";
export { connect, registerTransport } from "./src/client/connect.ts";
export type { ConnectOptions, TransportFactory } from "./src/client/connect.ts";
export { HttpJsonRpcTransport } from "./src/client/http_jsonrpc.ts";
export { WebSocketTransport } from "./src/client/ws.ts";
export type { WebSocketTransportOptions } from "./src/client/ws.ts";
export type { HttpTransportOptions } from "./src/client/http_jsonrpc.ts";
export { authenticatedFetch } from "./src/client/http_auth.ts";
export type { AuthCredentials, Proof } from "./src/auth/types.ts";
export { sharedSecretCredentials } from "./src/auth/shared_secret.ts";
export { passwordCredentials } from "./src/auth/password.ts";
export { bearerCredentials } from "./src/auth/bearer.ts";
export { registerType } from "./src/core/idl/translators.ts";
export type { RegisteredType, TypeTranslator } from "./src/core/idl/translators.ts";
export { BalancedTransport } from "./src/client/balance/balancer.ts";
export type { BalanceOptions, Replica, ReplicaStatus } from "./src/client/balance/balancer.ts";
export type { BalanceStrategy } from "./src/client/balance/pick.ts";
export type { BreakerOptions, BreakerState } from "./src/core/breaker.ts";
export type { RetryBudgetOptions } from "./src/core/retry_budget.ts";
export type { ReconnectPolicy } from "./src/core/backoff.ts";
export { unsent } from "./src/core/client/unsent.ts";
