/**
 * The component every Switchboard benchmark server registers: `Bench.add(a, b)` and
 * `Bench.payload(order)` (echoes a ~1 KB struct with 50 items, validated both ways).
 *
 * @module
 */

import { defineInterface, implement, method, t } from "../../mod.ts";

/** One order line. */
export const Item = t.struct("Item", { sku: t.string, qty: t.int });

/** The payload struct. */
export const Order = t.struct("Order", {
  id: t.int,
  customer: t.string,
  express: t.bool,
  total: t.float,
  items: t.array(Item),
});

/** The benchmarked interface. */
export const Bench = defineInterface("Bench", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int, doc: "a + b" }),
  payload: method({ params: { order: Order }, result: Order, doc: "Echoes the order" }),
});

/** Its implementation. */
export const bench = implement(Bench, {
  add: ({ a, b }) => a + b,
  payload: ({ order }) => order,
});
