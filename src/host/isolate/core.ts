/**
 * The runtime-free part of Switchboard (IDL, router, errors, client) that a worker
 * component gets when it imports Switchboard. Transports and servers are not loaded into
 * a worker: they would need permissions the component was not granted.
 *
 * @module
 */

export * from "../../core/idl/types.ts";
export * from "../../core/idl/interface.ts";
export * from "../../core/idl/validate.ts";
export * from "../../core/idl/schema.ts";
export * from "../../core/idl/openrpc.ts";
export * from "../../core/errors.ts";
export * from "../../core/context.ts";
export * from "../../core/implement.ts";
export * from "../../core/router/router.ts";
export * from "../../core/router/limiter.ts";
export * from "../../core/client/client.ts";
export * from "../../core/client/local.ts";
