/**
 * OpenRPC 1.3 documents generated from interfaces.
 *
 * @module
 */

import { type InterfaceDef, isVoidResult } from "./interface.ts";
import { toJsonSchema } from "./schema.ts";
import type { Type } from "./types.ts";

/** An OpenRPC document (the subset Switchboard writes). */
export interface OpenRpcDocument {
  /** OpenRPC version. */
  openrpc: string;
  /** Title and version of the API. */
  info: { title: string; version: string; description?: string };
  /** One entry per `Interface.method`. */
  methods: OpenRpcMethod[];
}

/** A param or result of an OpenRPC method. */
export interface OpenRpcContent {
  /** Its name (`result` for the result). */
  name: string;
  /** Whether a param must be given (absent for the result). */
  required?: boolean;
  /** JSON Schema of the value (a stream's: the whole array that plain peers receive). */
  schema: Record<string, unknown>;
  /** Switchboard extension: a `t.stream`, sent item by item; `items` is one item's schema. */
  "x-stream"?: { items: Record<string, unknown> };
}

/** The content descriptor of a param or result, marked when it is a stream. */
function content(name: string, type: Type, schema: Record<string, unknown>): OpenRpcContent {
  const entry: OpenRpcContent = { name, schema };
  if (type.kind === "stream") {
    entry["x-stream"] = { items: toJsonSchema(type.items) };
  }
  return entry;
}

/** One method of an OpenRPC document. */
export interface OpenRpcMethod {
  /** `Interface.method`. */
  name: string;
  /** Description. */
  summary?: string;
  /** Parameters in declared order. */
  params: OpenRpcContent[];
  /** The result. */
  result: OpenRpcContent;
  /** Whether params go by name, by position or either. */
  paramStructure: "either";
  /** Application errors the method declares. */
  errors?: { code: number; message: string }[];
  /** Switchboard extension: exposed on public fronts. */
  "x-public"?: boolean;
}

/**
 * Builds the OpenRPC document describing the given interfaces.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, method, t } from "@switchboard/rpc";
 * import { openRpcDocument } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int, doc: "Adds two numbers." }),
 * });
 * const doc = openRpcDocument([Calc], { title: "Calculator", version: "1.0.0" });
 * assert.deepEqual(doc.info, { title: "Calculator", version: "1.0.0" });
 * assert.equal(doc.methods[0].name, "Calc.add");
 * assert.equal(doc.methods[0].summary, "Adds two numbers.");
 * assert.deepEqual(doc.methods[0].params.map((p) => p.name), ["a", "b"]);
 * ```
 */
export function openRpcDocument(
  interfaces: readonly InterfaceDef[],
  info: { title?: string; version?: string; description?: string } = {},
): OpenRpcDocument {
  const methods: OpenRpcMethod[] = [];
  for (const iface of interfaces) {
    for (const [name, def] of Object.entries(iface.methods)) {
      const entry: OpenRpcMethod = {
        name: `${iface.name}.${name}`,
        params: Object.entries(def.params).map(([param, type]) => ({
          ...content(param, type, toJsonSchema(type)),
          required: type.kind !== "optional",
        })),
        result: content(
          "result",
          def.result,
          isVoidResult(def.result) ? { type: "null" } : toJsonSchema(def.result),
        ),
        paramStructure: "either",
      };
      if (def.doc !== undefined) entry.summary = def.doc;
      if (def.errors.length) {
        entry.errors = def.errors.map((e) => ({ code: -32000, message: e }));
      }
      if (def.public) entry["x-public"] = true;
      methods.push(entry);
    }
  }
  return {
    openrpc: "1.3.2",
    info: {
      title: info.title ?? "Switchboard",
      version: info.version ?? "0.1.0",
      ...(info.description ? { description: info.description } : {}),
    },
    methods,
  };
}
