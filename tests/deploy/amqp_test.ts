// A deployment whose catalog consumes its calls from RabbitMQ: the front and the orders
// process reach it through the broker, by the same routing table. Skipped locally when no
// broker answers (never under CI), like the other AMQP suites.

import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import { callQueue, eventsExchange } from "../../src/wire/amqp/conventions.ts";
import { BROKER_URL, deleteQueues, SKIP, uniquePrefix } from "../fixtures/amqp_broker.ts";
import { deploy, freePorts } from "./helpers.ts";
import "../../amqp.ts"; // connect() speaks amqp

const component = (name: string) =>
  new URL(`../../examples/shop/components/${name}.ts`, import.meta.url).href;

Deno.test({
  name: "deploy: an amqp listener joins the routing table like any other",
  ignore: SKIP,
  async fn() {
    const prefix = uniquePrefix("deploy");
    const frontPrefix = uniquePrefix("deploy-front");
    const [orders, http, status] = freePorts(3);
    const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
    const file = `${dir}/amqp.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        processes: {
          catalog: {
            components: [component("catalog")],
            listen: [{ amqp: BROKER_URL, prefix }],
            public: ["Catalog"],
          },
          orders: {
            components: [component("cart"), component("orders")],
            listen: [{ tcp: `127.0.0.1:${orders}` }],
            public: ["Cart", "Orders"],
          },
          front: {
            front: [{ http: `127.0.0.1:${http}` }, { amqp: BROKER_URL, prefix: frontPrefix }],
          },
        },
        status: `127.0.0.1:${status}`,
      }),
    );
    const running = deploy([file]);
    const front = connect(`http://127.0.0.1:${http}`, { timeout: 20_000 });
    try {
      const ready = await running.ready();
      assert.deepEqual(ready.routes.Catalog, [
        { process: "catalog", protocol: "amqp", url: BROKER_URL, options: { prefix } },
      ]);
      const list = await front.call("Catalog.list") as { sku: string }[];
      assert.deepEqual(list.map((p) => p.sku), ["apple", "pear", "fig"]);
      await front.call("Cart.add", { cart: "a", sku: "apple", qty: 2 });
      const order = await front.call("Orders.checkout", { cart: "a" }) as { total: number };
      assert.equal(order.total, 60);
      await assert.rejects(front.call("Catalog.get", { sku: "kiwi" }), { name: "NotFound" });
      // The front answers over AMQP too, with the public methods only.
      const viaBroker = connect(BROKER_URL, { prefix: frontPrefix, timeout: 20_000 });
      try {
        assert.deepEqual(await viaBroker.call("Cart.contents", { cart: "a" }), []);
        const pear = await viaBroker.call("Catalog.get", { sku: "pear" }) as { stock: number };
        assert.equal(pear.stock, 4);
      } finally {
        await viaBroker.close();
      }
    } finally {
      await front.close();
      assert.equal(await running.stop(), 0, running.lines.join("\n"));
      await Deno.remove(dir, { recursive: true });
      await deleteQueues([callQueue(prefix, "Catalog")], [eventsExchange(prefix)]).catch(() => {});
      await deleteQueues(
        ["Catalog", "Cart", "Orders"].map((i) => callQueue(frontPrefix, i)),
        [eventsExchange(frontPrefix)],
      ).catch(() => {});
    }
  },
});
