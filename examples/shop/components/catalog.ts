/** The catalog component: products and their stock, kept in memory. */

import { implement } from "@switchboard/rpc";
import { Catalog, NotFound, OutOfStock } from "../interfaces.ts";

const products = new Map([
  ["apple", { sku: "apple", name: "Apple", price: 30, stock: 10 }],
  ["pear", { sku: "pear", name: "Pear", price: 45, stock: 4 }],
  ["fig", { sku: "fig", name: "Fig", price: 120, stock: 0 }],
]);

function find(sku: string) {
  const product = products.get(sku);
  if (!product) throw new NotFound(`no product ${sku}`);
  return product;
}

export default implement(Catalog, {
  list: () => [...products.values()].map((p) => ({ ...p })),
  get: ({ sku }) => ({ ...find(sku) }),
  reserve: ({ sku, qty }) => {
    const product = find(sku);
    if (product.stock < qty) {
      throw new OutOfStock(`only ${product.stock} of ${sku} left`, {
        sku,
        available: product.stock,
      });
    }
    product.stock -= qty;
    return product.stock;
  },
});
