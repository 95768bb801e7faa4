/**
 * The runtime-free part of Switchboard (IDL, router, errors, client) that a worker
 * component gets when it imports Switchboard. Transports and servers are not loaded into
 * a worker: they would need permissions the component was not granted.
 *
 * @module
 */

export * from "../idl/types.ts";
export * from "../idl/interface.ts";
export * from "../idl/validate.ts";
export * from "../idl/schema.ts";
export * from "../idl/openrpc.ts";
export * from "../router/errors.ts";
export * from "../router/context.ts";
export * from "../router/implement.ts";
export * from "../router/router.ts";
export * from "../router/limiter.ts";
export * from "../client/client.ts";
export * from "../client/local.ts";
