/** The orders component: checkout reserves stock in the Catalog and empties the Cart. */

import { implement } from "@switchboard/rpc";
import { Cart, Catalog, EmptyCart, NotFound, Orders, OutOfStock } from "../interfaces.ts";

type Order = {
  id: string;
  cart: string;
  lines: { sku: string; qty: number; price: number }[];
  total: number;
  placedAt: Date;
};
const orders = new Map<string, Order>();

export default implement(Orders, {
  async checkout({ cart }, ctx) {
    const carts = ctx.client.proxy(Cart);
    const catalog = ctx.client.proxy(Catalog);
    const lines = await carts.contents({ cart });
    if (lines.length === 0) throw new EmptyCart(`cart ${cart} is empty`);
    // Check every line first, so a missing product does not leave half a reservation.
    for (const line of lines) {
      const { stock } = await catalog.get({ sku: line.sku });
      if (stock < line.qty) throw new OutOfStock(`only ${stock} of ${line.sku} left`);
    }
    for (const line of lines) await catalog.reserve({ sku: line.sku, qty: line.qty });
    await carts.clear({ cart });
    const order: Order = {
      id: `order-${orders.size + 1}`,
      cart,
      lines,
      total: lines.reduce((sum, l) => sum + l.qty * l.price, 0),
      placedAt: new Date(),
    };
    orders.set(order.id, order);
    return order;
  },
  get: ({ id }) => {
    const order = orders.get(id);
    if (!order) throw new NotFound(`no order ${id}`);
    return order;
  },
});
