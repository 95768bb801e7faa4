/**
 * The one error model: `{ code, name, message, data? }`, the same on every protocol.
 * JSON-RPC's standard codes mark protocol errors; application errors keep their `name`
 * so a client re-raises them as errors of that name.
 *
 * @module
 */

/** Error codes: JSON-RPC's standard ones, then Switchboard's in the server range. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ApplicationError: -32000,
  Unauthorized: -32001,
  Forbidden: -32002,
  Timeout: -32003,
  Overloaded: -32004,
  Unavailable: -32005,
  Cancelled: -32006,
  /** A component lacks a permission the deployment did not grant (not the caller's fault). */
  PermissionDenied: -32007,
} as const;

/** The name of a known code (`-32601` → `MethodNotFound`), or undefined. */
export function nameOfCode(code: number): string | undefined {
  for (const [name, value] of Object.entries(ErrorCode)) if (value === code) return name;
  return undefined;
}

/** Whether a code is one of JSON-RPC's reserved protocol codes (-32768..-32600). */
export function isProtocolCode(code: number): boolean {
  return code <= -32600 && code >= -32768;
}

/** An error as it travels: code, name, message and optional data. */
export interface ErrorShape {
  /** Numeric code (JSON-RPC codes for protocol errors). */
  code: number;
  /** The error's name: `MethodNotFound`, or an application error's own name. */
  name: string;
  /** What went wrong, for a person. */
  message: string;
  /** Optional structured detail. */
  data?: unknown;
}

/**
 * An error raised by a remote call, or thrown by a handler to send a named application
 * error to the caller.
 *
 * @example Throw a named application error from a handler
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "@switchboard/rpc";
 *
 * const err = new RpcError({ name: "NotFound", message: "no such user: 42" });
 * assert.equal(err.code, -32000);
 * assert.equal(err.name, "NotFound");
 * ```
 */
export class RpcError extends Error {
  /** Numeric code. */
  readonly code: number;
  /** Optional structured detail. */
  readonly data?: unknown;

  /** Creates the error; `code` defaults to -32000 (application error). */
  constructor(shape: { code?: number; name?: string; message: string; data?: unknown }) {
    super(shape.message);
    this.code = shape.code ?? ErrorCode.ApplicationError;
    this.name = shape.name ?? nameOfCode(this.code) ?? "RpcError";
    if (shape.data !== undefined) this.data = shape.data;
  }

  /** The error as a wire shape. */
  toShape(): ErrorShape {
    const shape: ErrorShape = { code: this.code, name: this.name, message: this.message };
    if (this.data !== undefined) shape.data = this.data;
    return shape;
  }

  /** Builds an RpcError from a wire shape. */
  static fromShape(shape: ErrorShape): RpcError {
    return new RpcError(shape);
  }
}

/** A class of named application errors, made by {@linkcode defineError}. */
export type ErrorClass = new (message: string, data?: unknown) => RpcError;

/**
 * Defines a named application error class; the caller's client re-raises it with the
 * same name, code and message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineError, RpcError } from "@switchboard/rpc";
 *
 * const NotFound = defineError("NotFound");
 * const err = new NotFound("no such thing");
 * assert.equal(err.name, "NotFound");
 * assert.ok(err instanceof RpcError);
 * ```
 */
export function defineError(name: string, options: { code?: number } = {}): ErrorClass {
  const code = options.code ?? ErrorCode.ApplicationError;
  return class extends RpcError {
    constructor(message: string, data?: unknown) {
      super({ code, name, message, data });
    }
  };
}

/**
 * The error every transport answers for a method it cannot reach.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RpcError } from "@switchboard/rpc";
 * import { methodNotFound } from "@switchboard/rpc/server";
 *
 * const shape = methodNotFound("Calc.sub");
 * assert.deepEqual(shape, {
 *   code: -32601,
 *   name: "MethodNotFound",
 *   message: "Method not found: Calc.sub",
 * });
 * assert.equal(new RpcError(shape).code, -32601);
 * ```
 */
export function methodNotFound(method: string): ErrorShape {
  return {
    code: ErrorCode.MethodNotFound,
    name: "MethodNotFound",
    message: `Method not found: ${method}`,
  };
}

/**
 * Shorthand for a protocol or Switchboard error of a known code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ErrorCode, RpcError } from "@switchboard/rpc";
 * import { rpcError } from "@switchboard/rpc/server";
 *
 * const error = rpcError("Timeout", "the database did not answer", { after: "5s" });
 * assert.ok(error instanceof RpcError);
 * assert.equal(error.code, ErrorCode.Timeout);
 * assert.equal(error.name, "Timeout");
 * assert.deepEqual(error.data, { after: "5s" });
 * ```
 */
export function rpcError(code: keyof typeof ErrorCode, message: string, data?: unknown): RpcError {
  return new RpcError({ code: ErrorCode[code], name: code, message, data });
}

/**
 * An error shape of a known code, as a plain object (no `Error` built: for answers on hot
 * paths and for errors that only travel).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorShape } from "./errors.ts";
 *
 * assert.deepEqual(errorShape("Overloaded", "busy"), { code: -32004, name: "Overloaded", message: "busy" });
 * ```
 */
export function errorShape(
  code: keyof typeof ErrorCode,
  message: string,
  data?: unknown,
): ErrorShape {
  const shape: ErrorShape = { code: ErrorCode[code], name: code, message };
  if (data !== undefined) shape.data = data;
  return shape;
}

/**
 * Anything thrown, as an RpcError: an RpcError as it is, anything else as `fallback`
 * (`InternalError` where a bug is the likely cause, `Unavailable` for a transport that
 * failed) with the thrown message.
 */
export function asRpcError(
  error: unknown,
  fallback: keyof typeof ErrorCode = "InternalError",
): RpcError {
  if (error instanceof RpcError) return error;
  return rpcError(fallback, error instanceof Error ? error.message : String(error));
}

/**
 * The error of a value that cannot be written for its protocol:
 * `Internal error: the result cannot be encoded as JSON (<why>)`.
 */
export function unencodable(what: string, format: string, error: unknown): ErrorShape {
  const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return errorShape(
    "InternalError",
    `Internal error: ${what} cannot be encoded as ${format} (${detail})`,
  );
}

/**
 * An error as a peer sent it, checked field by field: a field that is missing or of the
 * wrong type takes its default (`code` from `defaults`, `name` from the code, `message`
 * from `defaults`), so whatever arrives becomes a well-formed error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { receivedError } from "./errors.ts";
 *
 * assert.deepEqual(
 *   receivedError({ code: -32601, message: 7 }, { code: -32603, message: "unknown error" }),
 *   { code: -32601, name: "MethodNotFound", message: "unknown error" },
 * );
 * ```
 */
export function receivedError(
  fields: { code?: unknown; name?: unknown; message?: unknown; data?: unknown },
  defaults: { code: number; message: string },
): ErrorShape {
  const code = typeof fields.code === "number" ? fields.code : defaults.code;
  const shape: ErrorShape = {
    code,
    name: typeof fields.name === "string" ? fields.name : nameOfCode(code) ?? "RpcError",
    message: typeof fields.message === "string" ? fields.message : defaults.message,
  };
  if (fields.data !== undefined) shape.data = fields.data;
  return shape;
}
