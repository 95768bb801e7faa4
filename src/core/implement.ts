/**
 * Implementations: handlers bound to an interface, checked against it by the type system.
 *
 * @module
 */

import type { InterfaceDef, MethodDef, ParamsOf, ResultOf } from "./idl/interface.ts";
import type { CallContext, Identity } from "./context.ts";

/** A handler of one method: typed params in, typed result (or a Promise of it) out. */
export type Handler<M> = M extends MethodDef
  ? (params: ParamsOf<M>, ctx: CallContext) => ResultOf<M> | Promise<ResultOf<M>>
  : never;

/** One handler per method of the interface. */
export type Handlers<I extends InterfaceDef> = {
  [K in keyof I["methods"]]: Handler<I["methods"][K]>;
};

/** Options of an implementation. */
export interface ImplementOptions {
  /**
   * The permission domain this implementation serves. An interface may have one default
   * implementation and others for domains: a caller holding role `admin` reaches the
   * `admin` implementation's methods first.
   */
  domain?: string;
  /**
   * Decides whether a caller may call a method of this implementation (`method` is the
   * full `Interface.method`). A refused caller gets `Forbidden` (-32002), or
   * `Unauthorized` (-32001) when it is not authenticated at all.
   */
  allow?: (caller: Identity | undefined, method: string) => boolean;
  /**
   * Methods (own names, e.g. `["shutdown"]`) this implementation refuses to every caller,
   * with the same errors as `allow`; a domain implementation may still serve them.
   */
  deny?: readonly string[];
  /** Calls of all methods of this implementation running at once (1 = exclusive). */
  concurrency?: number;
  /** How many callers may wait for a slot before calls are refused. */
  queue?: number;
  /**
   * Serve from one place only: under `switchboard serve --workers N` this implementation
   * answers in the first worker, and the others hand its calls there, so that its state is
   * one (otherwise every worker holds its own).
   */
  once?: boolean;
}

/** Marks implementation objects, so module loaders recognise them across copies. */
export const IMPLEMENTATION = "switchboard.implementation" as const;

/** An interface bound to its handlers. Build with {@linkcode implement}. */
export interface Implementation<I extends InterfaceDef = InterfaceDef> {
  /** Marker recognised by the component loader. */
  readonly kind: typeof IMPLEMENTATION;
  /** The implemented interface. */
  readonly interface: I;
  /** The handlers. */
  readonly handlers: Handlers<I>;
  /** Options (domain, authorization, limits). */
  readonly options: ImplementOptions;
}

/**
 * Binds handlers to an interface. The type checker infers each handler's params and
 * result from the interface definition.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 *
 * const Calculator = defineInterface("Calculator", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 * const calculator = implement(Calculator, { add: ({ a, b }) => a + b });
 * export default calculator;
 *
 * assert.equal(calculator.interface, Calculator);
 * // @ts-expect-error: a handler is missing, which the type checker sees too
 * assert.throws(() => implement(Calculator, {}), /Calculator.add has no handler/);
 * ```
 */
export function implement<I extends InterfaceDef>(
  iface: I,
  handlers: Handlers<I>,
  options: ImplementOptions = {},
): Implementation<I> {
  for (const name of Object.keys(iface.methods)) {
    if (typeof (handlers as Record<string, unknown>)[name] !== "function") {
      throw new TypeError(`${iface.name}.${name} has no handler`);
    }
  }
  for (const name of Object.keys(handlers)) {
    if (!(name in iface.methods)) {
      throw new TypeError(`${iface.name} declares no method ${JSON.stringify(name)}`);
    }
  }
  for (const name of options.deny ?? []) {
    if (!(name in iface.methods)) {
      throw new TypeError(
        `cannot deny ${iface.name}.${name}: the interface declares no such method`,
      );
    }
  }
  return { kind: IMPLEMENTATION, interface: iface, handlers, options };
}

/**
 * Whether a value is an implementation (from this or another copy of the library).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { isImplementation } from "@switchboard/rpc/server";
 *
 * const Echo = defineInterface("Echo", {
 *   echo: method({ params: { s: t.string }, result: t.string }),
 * });
 * assert.ok(isImplementation(implement(Echo, { echo: ({ s }) => s })));
 * assert.ok(!isImplementation({ echo: (s: string) => s }));
 * ```
 */
export function isImplementation(value: unknown): value is Implementation {
  return typeof value === "object" && value !== null &&
    (value as { kind?: unknown }).kind === IMPLEMENTATION &&
    typeof (value as { interface?: { name?: unknown } }).interface?.name === "string";
}
