// Losing the broker connection (cut by a TCP proxy in between): workers reconnect and carry
// on; clients fail the calls in flight as Unavailable and reconnect on the next call.
import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import { callQueue, eventsExchange } from "../../src/wire/amqp/conventions.ts";
import { defineInterface, method } from "../../src/core/idl/interface.ts";
import { t } from "../../src/core/idl/types.ts";
import type { RpcError } from "../../src/core/errors.ts";
import { implement } from "../../src/core/implement.ts";
import { Server } from "../../src/adapters/deno/server.ts";
import {
  BROKER_URL,
  deleteQueues,
  SKIP,
  startProxy,
  uniquePrefix,
  waitFor,
} from "../fixtures/amqp_broker.ts";
import "../../amqp.ts"; // connect() speaks amqp

const Clock = defineInterface("Clock", {
  tick: method({ params: { ms: t.int }, result: t.string }),
});

Deno.test({
  name: "amqp: a worker whose connection is cut reconnects and serves again",
  ignore: SKIP,
  async fn() {
    const prefix = uniquePrefix("reconnect");
    const proxy = startProxy();
    const warnings: string[] = [];
    const server = new Server({ logger: { error: () => {}, warn: (m) => warnings.push(m) } });
    server.register(implement(Clock, {
      tick: async ({ ms }) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return "tock";
      },
    }));
    const listener = await server.listenAmqp(proxy.url, { prefix });
    const client = connect(BROKER_URL, { prefix });
    try {
      assert.equal(await client.call("Clock.tick", { ms: 0 }), "tock");
      proxy.cut();
      await waitFor(() => warnings.some((w) => /reconnected/.test(w)), "reconnection");
      assert.match(
        warnings[0],
        /lost the connection to amqp:\/\/127\.0\.0\.1:\d+\/? .*reconnecting/,
      );
      assert.equal(listener.connected, true);
      assert.equal(await client.call("Clock.tick", { ms: 0 }, { timeout: 10_000 }), "tock");
    } finally {
      await client.close();
      await server.close();
      await proxy.close();
      await deleteQueues([callQueue(prefix, "Clock")], [eventsExchange(prefix)]);
    }
  },
});

Deno.test({
  name: "amqp: a client whose connection is cut fails calls in flight, then reconnects",
  ignore: SKIP,
  async fn() {
    const prefix = uniquePrefix("clientcut");
    const proxy = startProxy();
    const server = new Server({ logger: { error: () => {}, warn: () => {} } });
    server.register(implement(Clock, {
      tick: async ({ ms }) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return "tock";
      },
    }));
    await server.listenAmqp(BROKER_URL, { prefix });
    const client = connect(proxy.url, { prefix });
    try {
      assert.equal(await client.call("Clock.tick", { ms: 0 }), "tock");
      const inFlight = client.call("Clock.tick", { ms: 400 });
      await new Promise((resolve) => setTimeout(resolve, 100));
      proxy.cut();
      await assert.rejects(
        inFlight,
        (e: RpcError) =>
          e.name === "Unavailable" &&
          /lost the connection .* may or may not have run/.test(e.message),
      );
      assert.equal(await client.call("Clock.tick", { ms: 0 }), "tock");
    } finally {
      await client.close();
      await server.close();
      await proxy.close();
      await deleteQueues([callQueue(prefix, "Clock")], [eventsExchange(prefix)]);
    }
  },
});
