// The proof of process-agnosticism: the shop's test suite runs unchanged against the
// all-in-one deployment and the three-process one, through the public front (HTTP and
// TCP), and both give the same transcript.

import assert from "node:assert/strict";
import { type Client, connect } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { deploy, materialize } from "../deploy/helpers.ts";

const DEPLOYMENTS = ["all_in_one", "three_processes"];
const HTTP_FRONT = 7300;
const TCP_FRONT = 7301;

type Entry = { call: string; ok: unknown } | { call: string; error: string; message: string };

/** Runs a call and records its outcome (datetimes checked, then blanked: they differ per run). */
async function record(transcript: Entry[], client: Client, method: string, params?: unknown) {
  const call = `${method} ${JSON.stringify(params ?? {})}`;
  try {
    const value = await client.call(method, params);
    transcript.push({ call, ok: JSON.parse(JSON.stringify(value, blankDates)) });
    return value;
  } catch (error) {
    const e = error as Error;
    transcript.push({ call, error: e.name, message: e.message });
    return undefined;
  }
}

function blankDates(this: Record<string, unknown>, key: string, value: unknown) {
  return this[key] instanceof Date ? "<date>" : value;
}

/** The shop's suite: asserts as it goes, and returns everything it saw. */
async function shopSuite(http: Client, tcp: Client): Promise<Entry[]> {
  const t: Entry[] = [];
  const products = await record(t, http, "Catalog.list") as { sku: string; stock: number }[];
  assert.deepEqual(products.map((p) => [p.sku, p.stock]), [["apple", 10], ["pear", 4], ["fig", 0]]);
  assert.deepEqual(await record(t, http, "Cart.add", { cart: "c1", sku: "apple", qty: 3 }), [
    { sku: "apple", qty: 3, price: 30 },
  ]);
  await record(t, http, "Cart.add", { cart: "c1", sku: "pear", qty: 2 });
  await record(t, http, "Cart.add", { cart: "c1", sku: "kiwi", qty: 1 });
  await record(t, http, "Cart.add", { cart: "c1", sku: "apple", qty: "three" });
  await record(t, http, "Catalog.reserve", { sku: "apple", qty: 1 });
  await record(t, http, "Cart.clear", { cart: "c1" });
  const order = await record(t, http, "Orders.checkout", { cart: "c1" }) as {
    id: string;
    total: number;
    placedAt: Date;
  };
  assert.equal(order.id, "order-1");
  assert.equal(order.total, 3 * 30 + 2 * 45);
  assert.ok(order.placedAt instanceof Date);
  await record(t, http, "Orders.checkout", { cart: "c1" });
  await record(t, http, "Cart.add", { cart: "c2", sku: "fig", qty: 1 });
  await record(t, http, "Orders.checkout", { cart: "c2" });
  // The same deployment through the TCP front (msgpack-rpc).
  const again = await record(t, tcp, "Orders.get", { id: "order-1" }) as { placedAt: Date };
  assert.equal(again.placedAt.getTime(), order.placedAt.getTime());
  const after = await record(t, tcp, "Catalog.list") as { sku: string; stock: number }[];
  assert.deepEqual(after.map((p) => [p.sku, p.stock]), [["apple", 7], ["pear", 2], ["fig", 0]]);
  await record(t, tcp, "Orders.get", { id: "order-9" });
  return t;
}

Deno.test("the shop's suite gives identical results in one process and in three", async (t) => {
  const transcripts: Record<string, Entry[]> = {};
  for (const name of DEPLOYMENTS) {
    await t.step(name, async () => {
      const file = await materialize(
        new URL(`../../examples/shop/deploy/${name}.json`, import.meta.url),
      );
      const running = deploy([file.path]);
      try {
        await running.ready();
        const http = connect(`http://127.0.0.1:${file.port(HTTP_FRONT)}`, { timeout: 20_000 });
        const tcp = connect(`tcp://127.0.0.1:${file.port(TCP_FRONT)}`, { timeout: 20_000 });
        try {
          transcripts[name] = await shopSuite(http, tcp);
        } finally {
          await http.close();
          await tcp.close();
        }
      } finally {
        assert.equal(await running.stop(), 0, running.lines.join("\n"));
        await Deno.remove(file.dir, { recursive: true });
      }
    });
  }
  const [one, three] = DEPLOYMENTS.map((n) => transcripts[n]);
  assert.ok(one && three, "both deployments ran");
  assert.deepEqual(three, one);
  // The errors are the shop's own, whatever the process layout.
  assert.deepEqual(
    one.filter((e) => "error" in e).map((e) => "error" in e && `${e.error}: ${e.message}`),
    [
      "NotFound: no product kiwi",
      'InvalidParams: params.qty: expected int, got "three"',
      "MethodNotFound: Method not found: Catalog.reserve",
      "MethodNotFound: Method not found: Cart.clear",
      "EmptyCart: cart c1 is empty",
      "OutOfStock: only 0 of fig left",
      "NotFound: no order order-9",
    ],
  );
});
