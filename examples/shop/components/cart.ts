/** The cart component: carts in memory; prices come from the Catalog, wherever it runs. */

import { implement } from "@switchboard/rpc";
import { Cart, Catalog } from "../interfaces.ts";

const carts = new Map<string, { sku: string; qty: number; price: number }[]>();

export default implement(Cart, {
  async add({ cart, sku, qty }, ctx) {
    // In-process or remote: the deployment decides, this code does not change.
    const product = await ctx.client.proxy(Catalog).get({ sku });
    const lines = carts.get(cart) ?? [];
    const line = lines.find((l) => l.sku === sku);
    if (line) line.qty += qty;
    else lines.push({ sku, qty, price: product.price });
    carts.set(cart, lines);
    return lines.map((l) => ({ ...l }));
  },
  contents: ({ cart }) => (carts.get(cart) ?? []).map((l) => ({ ...l })),
  clear: ({ cart }) => {
    carts.delete(cart);
  },
});
