/**
 * What an XML-RPC request is answered with besides its body: how its methods' declarations
 * are found, what each call inherits from its carrier, and the carrier's options. Shared by
 * the codec and `system.multicall`.
 *
 * @module
 */

import type { Call, Identity } from "../../core/context.ts";
import type { MethodDef } from "../../core/idl/interface.ts";

/** Finds the declaration of a callable method; a `Router` is one. */
export interface MethodLookup {
  /** The method a caller reaches under a name, if any. */
  resolve(method: string, caller?: Identity): { readonly def: MethodDef } | undefined;
}

/** Everything a call inherits from its carrier (caller, deadline). */
export type XmlRpcCallBase = Omit<Call, "method" | "params" | "notification" | "id">;

/** What the carrier knows about an XML-RPC request besides its body. */
export interface XmlRpcRequestOptions {
  /** The client is Switchboard (it sent `x-switchboard-client`): faults carry names. */
  namedFaults?: boolean;
  /** The one struct param is params by name (the client sent `x-switchboard-params: named`). */
  namedParams?: boolean;
  /** The most calls one `system.multicall` may hold (default 1000, as a JSON-RPC batch). */
  maxBatch?: number;
  /** The most one `system.multicall`'s answer may hold (default 8 MiB; see `AnswerBudget`). */
  maxResponseBytes?: number;
}
