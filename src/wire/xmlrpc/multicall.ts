/**
 * XML-RPC's `system.multicall` (as Python's `MultiCall`, Ruby's `XMLRPC::Client#multicall`
 * and xmlrpc-c send it): one request of many calls, answered by one array whose entries are
 * each what that call alone would have answered, `[value]` or the same fault struct.
 *
 * Each entry is dispatched as a call of its own with the request's caller, deadline and
 * listener, so exposure, authorization and the router's limits apply per entry exactly as
 * to a single call. Entries run one after another, in order, and each is written as soon as
 * it settles so that the answer is measured while it is built:
 *
 * - more entries than `maxBatch` (the listener's batch limit): the request is refused whole;
 * - an answer over `maxResponseBytes`: refused as soon as it gets there (later entries do
 *   not run), instead of building an answer a thousand times the request;
 * - a multicall entry inside a multicall faults (no nesting);
 * - the loop gives the event loop a turn now and then, so other callers are not held up.
 *
 * @module
 */

import type { Call, Outcome } from "../../core/context.ts";
import { type ErrorShape, errorShape } from "../../core/errors.ts";
import type { MethodDef } from "../../core/idl/interface.ts";
import { TimeSlice } from "../../core/time_slice.ts";
import {
  AnswerBudget,
  answerTooLarge,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_RESPONSE_BYTES,
} from "../batch_limits.ts";
import { cannotCarry, encodeFault, writeFault } from "./fault.ts";
import { callParams, isNamed } from "./positional.ts";
import { writeTyped, writeUntyped, XmlRpcWriteError } from "./writer.ts";
import { NO_METHOD_NAME } from "./reader.ts";
import type { MethodLookup, XmlRpcCallBase, XmlRpcRequestOptions } from "./request.ts";

/** The method name of the convention. */
export const MULTICALL = "system.multicall";

const HEAD = '<?xml version="1.0"?>\n<methodResponse><params><param><value><array><data>';
const TAIL = "</data></array></value></param></params></methodResponse>";

/** Runs a `system.multicall` whose positional params are `params`; the response text. */
export async function runMulticall(
  params: unknown[],
  dispatch: (call: Call) => Promise<Outcome>,
  base: XmlRpcCallBase,
  lookup: MethodLookup | undefined,
  options: XmlRpcRequestOptions,
): Promise<string> {
  const named = options.namedFaults ?? false;
  const refuse = (error: ErrorShape) => encodeFault(error, named);
  const calls = params[0];
  if (params.length !== 1 || !Array.isArray(calls)) {
    return refuse(errorShape(
      "InvalidParams",
      `Invalid params: ${MULTICALL} takes one param, an array of {methodName, params} structs`,
    ));
  }
  const maxCalls = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (calls.length > maxCalls) {
    return refuse(errorShape(
      "InvalidRequest",
      `Invalid Request: ${MULTICALL} of ${calls.length} calls exceeds the limit of ` +
        `${maxCalls} calls per request (maxBatch)`,
    ));
  }
  const run = new Entries(dispatch, base, lookup, named, options);
  const budget = new AnswerBudget(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  budget.take(HEAD + TAIL);
  const slice = new TimeSlice();
  // Appended as it comes: V8 keeps the parts as a rope, copied once when sent.
  let out = HEAD;
  for (let i = 0; i < calls.length; i++) {
    const pause = slice.pause();
    if (pause) await pause;
    const part = await run.entry(calls[i], i);
    if (!budget.take(part)) {
      return refuse(answerTooLarge(MULTICALL, budget.limit, i + 1, calls.length));
    }
    out += part;
  }
  return out + TAIL;
}

/** What every entry of one multicall shares. */
class Entries {
  /** The multicall's own declaration: an entry resolving to it nests, whatever its name. */
  readonly #self?: MethodDef;

  constructor(
    readonly dispatch: (call: Call) => Promise<Outcome>,
    readonly base: XmlRpcCallBase,
    readonly lookup: MethodLookup | undefined,
    readonly named: boolean,
    readonly options: XmlRpcRequestOptions,
  ) {
    this.#self = lookup?.resolve(MULTICALL, base.caller)?.def;
  }

  /** One entry's `<value>`: `[value]`, or the fault its call alone would have got. */
  async entry(spec: unknown, i: number): Promise<string> {
    const path = `result[${i}]`;
    const fault = (error: ErrorShape) => writeFault(error, this.named, path, 1);
    const invalid = (message: string) => fault(errorShape("InvalidRequest", message));
    if (!isNamed(spec) || typeof spec.methodName !== "string") {
      return invalid(`Invalid Request: calls[${i}]: expected a struct {methodName, params}`);
    }
    // The name as `<methodName>` would be read: trimmed, and refused empty.
    const method = spec.methodName.trim();
    if (!method) return invalid(`Invalid Request: ${NO_METHOD_NAME}`);
    const list = spec.params ?? [];
    if (!Array.isArray(list)) {
      return invalid(`Invalid Request: calls[${i}].params: expected an array`);
    }
    const def = this.lookup?.resolve(method, this.base.caller)?.def;
    if (method === MULTICALL || (def !== undefined && def === this.#self)) {
      return invalid(`Invalid Request: calls[${i}]: ${MULTICALL} may not nest`);
    }
    const params = callParams(list, def?.params, this.options);
    const outcome = await this.dispatch({ ...this.base, method, params, protocol: "xmlrpc" });
    if (!outcome.ok) return fault(outcome.error);
    try {
      // Named as a single call's result is, so that a fault for it reads the same.
      const value = def
        ? writeTyped(outcome.value, def.result, "result", 2)
        : writeUntyped(outcome.value, "result", 2);
      return `<value><array><data>${value}</data></array></value>`;
    } catch (error) {
      // A value that cannot travel faults its own call, not the whole multicall.
      if (!(error instanceof XmlRpcWriteError)) throw error;
      return fault(cannotCarry(method, error));
    }
  }
}
