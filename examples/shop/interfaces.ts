/**
 * The shop's contracts: what each component offers. Components import these, never
 * each other, so any component can run in any process.
 *
 * @module
 */

import { defineError, defineInterface, method, t } from "@switchboard/rpc";

/** An unknown product or order. */
export const NotFound = defineError("NotFound");
/** Not enough stock for a reservation. */
export const OutOfStock = defineError("OutOfStock");
/** Checkout of a cart with nothing in it. */
export const EmptyCart = defineError("EmptyCart");

/** A product on sale. */
export const Product = t.struct("Product", {
  sku: t.string,
  name: t.string,
  price: t.int,
  stock: t.int,
});

/** One line of a cart or an order. */
export const Line = t.struct("Line", { sku: t.string, qty: t.int, price: t.int });

/** A placed order. */
export const Order = t.struct("Order", {
  id: t.string,
  cart: t.string,
  lines: t.array(Line),
  total: t.int,
  placedAt: t.datetime,
});

/** Products and stock. */
export const Catalog = defineInterface("Catalog", {
  list: method({ result: t.array(Product), public: true, doc: "Every product" }),
  get: method({
    params: { sku: t.string },
    result: Product,
    public: true,
    errors: ["NotFound"],
    doc: "One product",
  }),
  reserve: method({
    params: { sku: t.string, qty: t.int },
    result: t.int,
    errors: ["NotFound", "OutOfStock"],
    exclusive: true,
    doc: "Takes qty out of stock; returns what is left (internal)",
  }),
});

/** Shopping carts. */
export const Cart = defineInterface("Cart", {
  add: method({
    params: { cart: t.string, sku: t.string, qty: t.int },
    result: t.array(Line),
    public: true,
    errors: ["NotFound"],
    doc: "Adds a product (priced now) to a cart; returns the cart",
  }),
  contents: method({ params: { cart: t.string }, result: t.array(Line), public: true }),
  clear: method({ params: { cart: t.string }, doc: "Empties a cart (internal)" }),
});

/** Checkout and orders. */
export const Orders = defineInterface("Orders", {
  checkout: method({
    params: { cart: t.string },
    result: Order,
    public: true,
    errors: ["EmptyCart", "OutOfStock"],
    doc: "Reserves the cart's products and places an order",
  }),
  get: method({ params: { id: t.string }, result: Order, public: true, errors: ["NotFound"] }),
});
