/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification): text in, calls out; outcomes in,
 * text out. Knows nothing of sockets. Datetimes and bytes travel as tagged objects
 * (`{"$date": …}`, `{"$bytes": …}`, see `src/core/idl/tagged.ts`).
 *
 * @module
 */

import type { Call, Outcome } from "../../core/context.ts";
import {
  type ErrorShape,
  errorShape,
  isProtocolCode,
  receivedError,
  unencodable,
} from "../../core/errors.ts";
import { reviveTagged, taggingReplacer } from "../../core/idl/tagged.ts";
import { parseJsonText } from "./json_text.ts";
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_RESPONSE_BYTES } from "../batch_limits.ts";
import { runBatch } from "./batch.ts";
import { jsonFloats } from "./float_text.ts";

/** A JSON-RPC id. */
export type JsonRpcId = string | number | null;

/** One member of a request: a call, a notification, or an invalid member. */
export type JsonRpcMember =
  | { kind: "call"; id: JsonRpcId; method: string; params?: unknown }
  | { kind: "notification"; method: string; params?: unknown }
  | { kind: "invalid"; id: JsonRpcId; error: ErrorShape };

/** A parsed request body: one member or a batch, or a parse error for the whole body. */
export type JsonRpcRequest =
  | { kind: "single"; member: JsonRpcMember }
  | { kind: "batch"; members: JsonRpcMember[] }
  | { kind: "error"; error: ErrorShape };

const INVALID = (message: string): ErrorShape => errorShape("InvalidRequest", message);

/** The response to a body that is not JSON. */
export function parseError(detail: string): ErrorShape {
  return errorShape("ParseError", `Parse error: ${detail}`);
}

export { DEFAULT_MAX_BATCH, DEFAULT_MAX_RESPONSE_BYTES } from "../batch_limits.ts";

/**
 * Parses a request body. Never throws. `maxBatch` caps the members of a batch; a long body
 * nested deeper than `MAX_JSON_DEPTH` (json_text.ts) is a parse error before it is parsed.
 */
export function parseRequest(text: string, maxBatch = DEFAULT_MAX_BATCH): JsonRpcRequest {
  let body: unknown;
  try {
    body = parseJsonText(text);
  } catch (e) {
    return { kind: "error", error: parseError(e instanceof Error ? e.message : String(e)) };
  }
  return parseRequestValue(body, maxBatch);
}

/**
 * Checks a request body that is already parsed JSON. Never throws. A batch of more than
 * `maxBatch` members is refused whole (one small body could otherwise ask for half a million
 * answers).
 */
export function parseRequestValue(body: unknown, maxBatch = DEFAULT_MAX_BATCH): JsonRpcRequest {
  if (Array.isArray(body)) {
    if (body.length === 0) {
      return { kind: "error", error: INVALID("Invalid Request: empty batch") };
    }
    if (body.length > maxBatch) {
      return {
        kind: "error",
        error: INVALID(
          `Invalid Request: batch of ${body.length} members exceeds the limit of ${maxBatch}`,
        ),
      };
    }
    return { kind: "batch", members: body.map(parseMember) };
  }
  return { kind: "single", member: parseMember(body) };
}

function validId(id: unknown): id is JsonRpcId {
  return id === null || typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

/** Checks one request object against the spec. */
export function parseMember(value: unknown): JsonRpcMember {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", id: null, error: INVALID("Invalid Request: expected an object") };
  }
  const req = value as Record<string, unknown>;
  const hasId = "id" in req;
  const id = hasId && validId(req.id) ? req.id : null;
  if (hasId && !validId(req.id)) {
    return {
      kind: "invalid",
      id: null,
      error: INVALID("Invalid Request: id must be a string, a number or null"),
    };
  }
  if (req.jsonrpc !== "2.0") {
    return { kind: "invalid", id, error: INVALID('Invalid Request: jsonrpc must be "2.0"') };
  }
  if (typeof req.method !== "string") {
    return { kind: "invalid", id, error: INVALID("Invalid Request: method must be a string") };
  }
  const params = req.params;
  if (params !== undefined && (typeof params !== "object" || params === null)) {
    return {
      kind: "invalid",
      id,
      error: INVALID("Invalid Request: params must be an array or an object"),
    };
  }
  return hasId
    ? { kind: "call", id, method: req.method, params }
    : { kind: "notification", method: req.method, params };
}

/** The error object as JSON-RPC writes it; non-protocol errors keep their `name`. */
export function errorObject(error: ErrorShape): Record<string, unknown> {
  const out: Record<string, unknown> = { code: error.code, message: error.message };
  if (!isProtocolCode(error.code)) out.name = error.name;
  if (error.data !== undefined) out.data = error.data;
  return out;
}

/**
 * Encodes the response to a call. A value JSON cannot carry (a cycle, say) becomes an
 * internal error response instead of failing the whole request.
 */
export function encodeResponse(id: JsonRpcId, outcome: Outcome): string {
  const idText = numberText(id) ?? JSON.stringify(id);
  try {
    if (outcome.ok) {
      let value: unknown = outcome.value === undefined ? null : outcome.value;
      // Whole numbers where the result declares t.float: `1.0`, not `1`.
      if (outcome.floats) value = jsonFloats(outcome.floats, value);
      const result = numberText(value) ??
        (outcome.plain ? JSON.stringify(value) : JSON.stringify(value, taggingReplacer));
      return `{"jsonrpc":"2.0","result":${result},"id":${idText}}`;
    }
    const error = JSON.stringify(errorObject(outcome.error), taggingReplacer);
    return `{"jsonrpc":"2.0","error":${error},"id":${idText}}`;
  } catch (e) {
    const { code, message } = unencodable(`the ${outcome.ok ? "result" : "error"}`, "JSON", e);
    const error = JSON.stringify({ code, message });
    return `{"jsonrpc":"2.0","error":${error},"id":${idText}}`;
  }
}

/**
 * A finite number's JSON text (the text `JSON.stringify` writes: ECMAScript's number to
 * string), made without entering the JSON serializer; undefined for any other value.
 */
function numberText(value: unknown): string | undefined {
  return typeof value === "number" && Number.isFinite(value) ? `${value}` : undefined;
}

/** Encodes an error response (for parse errors and invalid members). */
export function encodeError(id: JsonRpcId, error: ErrorShape): string {
  return encodeResponse(id, { ok: false, error });
}

/** Everything a call inherits from its carrier (caller, deadline, cancellation). */
export type CallBase = Omit<Call, "method" | "params" | "notification" | "id">;

/** Runs a call: its outcome, at once when the router has it at once (see `RouterView.dispatchNow`). */
export type Dispatch = (call: Call) => Outcome | Promise<Outcome>;

/** Runs a request body against a dispatcher; returns the response text, or null for none. */
export function handleJsonRpc(
  text: string,
  dispatch: Dispatch,
  base: CallBase = {},
): Promise<string | null> {
  return Promise.resolve(runRequest(parseRequest(text), dispatch, base));
}

/**
 * Runs a parsed request (see {@link parseRequestValue}); the response text, or null.
 * Synchronous when every call it makes is, so that the HTTP transport can answer a small
 * call without a promise in between; `then` rather than `async` frames otherwise. A batch's
 * answer may hold at most `maxResponseBytes` (see `batch.ts`).
 */
export function runRequest(
  request: JsonRpcRequest,
  dispatch: Dispatch,
  base: CallBase = {},
  maxResponseBytes: number = DEFAULT_MAX_RESPONSE_BYTES,
): string | null | Promise<string | null> {
  switch (request.kind) {
    case "error":
      return encodeError(null, request.error);
    case "single":
      return runMember(request.member, dispatch, base);
    case "batch":
      return runBatch(
        request.members,
        (member) => runMember(member, dispatch, base),
        maxResponseBytes,
        (error) => encodeError(null, error),
      );
  }
}

function runMember(
  member: JsonRpcMember,
  dispatch: Dispatch,
  base: CallBase,
): string | null | Promise<string | null> {
  if (member.kind === "invalid") return encodeError(member.id, member.error);
  const call: Call = {
    ...base,
    method: member.method,
    params: member.params,
    protocol: "jsonrpc",
  };
  if (member.kind === "notification") {
    call.notification = true;
    const done = dispatch(call);
    return done instanceof Promise ? done.then(() => null) : null;
  }
  const id = member.id;
  call.id = id;
  const outcome = dispatch(call);
  return outcome instanceof Promise
    ? outcome.then((settled) => encodeResponse(id, settled))
    : encodeResponse(id, outcome);
}

/** Client side: encodes a call (`id` undefined makes it a notification). */
export function encodeRequest(
  method: string,
  params: unknown,
  id?: JsonRpcId,
  replacer: (this: unknown, key: string, value: unknown) => unknown = taggingReplacer,
): string {
  const head = id === undefined ? "" : `"id":${JSON.stringify(id)},`;
  const paramsText = params === undefined ? "" : `,"params":${JSON.stringify(params, replacer)}`;
  return `{"jsonrpc":"2.0",${head}"method":${JSON.stringify(method)}${paramsText}}`;
}

/** Client side: the outcome carried by one response object, with tags revived. */
export function decodeResponse(value: unknown): { id: JsonRpcId; outcome: Outcome } | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const res = value as Record<string, unknown>;
  if (res.jsonrpc !== "2.0" || !validId(res.id)) return undefined;
  if ("error" in res && typeof res.error === "object" && res.error !== null) {
    const error = receivedError(res.error as Record<string, unknown>, {
      code: -32603,
      message: "unknown error",
    });
    return { id: res.id, outcome: { ok: false, error } };
  }
  if ("result" in res) {
    try {
      return { id: res.id, outcome: { ok: true, value: reviveTagged(res.result) } };
    } catch (error) {
      // Too deep, too large, a bad tag or a number beyond a double: the call failed.
      const message = error instanceof Error ? error.message : String(error);
      return {
        id: res.id,
        outcome: { ok: false, error: errorShape("InternalError", `the result ${message}`) },
      };
    }
  }
  return undefined;
}
