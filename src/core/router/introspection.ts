/**
 * Interfaces that describe the router: XML-RPC's `system.*` introspection methods and
 * OpenRPC's `rpc.discover`, generated from the IDL of what is registered.
 *
 * @module
 */

import { defineInterface, method } from "../idl/interface.ts";
import { t } from "../idl/types.ts";
import { xmlRpcTypeName } from "../idl/signature.ts";
import { openRpcDocument } from "../idl/openrpc.ts";
import { implement, type Implementation } from "../implement.ts";
import type { Router } from "./router.ts";
import { rpcError } from "../errors.ts";

/** XML-RPC's introspection interface. */
export const System = defineInterface("system", {
  listMethods: method({ result: t.array(t.string), doc: "Lists every callable method." }),
  methodSignature: method({
    params: { methodName: t.string },
    result: t.array(t.array(t.string)),
    doc: "Signatures of a method: [[result type, param types...]].",
  }),
  methodHelp: method({
    params: { methodName: t.string },
    result: t.string,
    doc: "The documentation of a method.",
  }),
  multicall: method({
    params: { calls: t.array(t.any) },
    result: t.array(t.any),
    doc: "Runs several calls in one XML-RPC request; each result is [value] or a fault struct.",
  }),
});

/** OpenRPC's discovery interface. */
export const Discover = defineInterface("rpc", {
  discover: method({ result: t.any, doc: "The OpenRPC document of this server." }),
});

/**
 * The implementations of `system.*` and `rpc.discover` for a router.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { introspection, Router } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int, doc: "Adds." }),
 * });
 * const router = new Router();
 * router.register(implement(Calc, { add: ({ a, b }) => a + b }));
 * for (const impl of introspection(router)) router.register(impl);
 *
 * const listed = await router.dispatch({ method: "system.listMethods" });
 * assert.ok(listed.ok && (listed.value as string[]).includes("Calc.add"));
 * const help = await router.dispatch({ method: "system.methodHelp", params: ["Calc.add"] });
 * assert.ok(help.ok && help.value === "Adds.");
 * ```
 */
export function introspection(
  router: Router,
  options: { filter?: (method: string) => boolean } = {},
): Implementation[] {
  const visible = options.filter ?? (() => true);
  const lookup = (name: string) => {
    const entry = router.resolve(name);
    if (!entry || !visible(entry.name)) {
      throw rpcError("InvalidParams", `params.methodName: no method ${JSON.stringify(name)}`);
    }
    return entry;
  };
  const system = implement(System, {
    listMethods: () => router.entries().map((e) => e.name).filter(visible).sort(),
    methodSignature: ({ methodName }) => {
      const { def } = lookup(methodName);
      return [[xmlRpcTypeName(def.result), ...Object.values(def.params).map(xmlRpcTypeName)]];
    },
    methodHelp: ({ methodName }) => lookup(methodName).def.doc ?? "",
    // The XML-RPC transport answers system.multicall itself, entry by entry, within the
    // listener's limits (see src/wire/xmlrpc/multicall.ts); other protocols have batches.
    multicall: () => {
      throw rpcError(
        "InvalidRequest",
        "Invalid Request: system.multicall is answered over XML-RPC only; " +
          "send a JSON-RPC batch instead",
      );
    },
  });
  const discover = implement(Discover, {
    discover: () =>
      openRpcDocument(
        router.interfaces().filter((i) =>
          Object.keys(i.methods).some((m) => visible(`${i.name}.${m}`))
        ),
      ),
  });
  return [system, discover];
}
