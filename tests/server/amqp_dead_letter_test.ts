// AMQP against the real broker: a message a worker cannot read as a call goes to
// `<prefix>.dead` (inspectable, with why) instead of being requeued or dropped unseen, its
// caller gets an error reply when it named a reply queue; and calls made while the broker
// is down wait for it within their deadline.
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { connect } from "../../src/client/connect.ts";
import {
  callQueue,
  DEAD_FROM_HEADER,
  DEAD_REASON_HEADER,
  deadQueue,
  eventsExchange,
} from "../../src/wire/amqp/conventions.ts";
import { defineInterface, method } from "../../src/core/idl/interface.ts";
import { t } from "../../src/core/idl/types.ts";
import { implement } from "../../src/core/implement.ts";
import { Server } from "../../src/adapters/deno/server.ts";
import { decodeMessage } from "../../src/wire/msgpackrpc/codec.ts";
import {
  BROKER_URL,
  deleteQueues,
  rawConnection,
  SKIP,
  startProxy,
  uniquePrefix,
  waitFor,
} from "../fixtures/amqp_broker.ts";
import "../../amqp.ts"; // connect() speaks amqp

/** amqplib channel methods the library itself does not use (and so does not type). */
interface TestChannel {
  waitForConfirms(): Promise<void>;
  get(
    queue: string,
    options: { noAck: boolean },
  ): Promise<false | { content: Uint8Array; properties: { headers?: Record<string, unknown> } }>;
  checkQueue(queue: string): Promise<{ messageCount: number }>;
}

const Clock = defineInterface("Clock", {
  tick: method({ params: { ms: t.int }, result: t.string }),
});

const clock = implement(Clock, {
  tick: async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return "tock";
  },
});

Deno.test({
  name: "amqp: a message that is no call goes to <prefix>.dead; its caller gets InvalidRequest",
  ignore: SKIP,
  async fn() {
    const prefix = uniquePrefix("dead");
    const warnings: string[] = [];
    const server = new Server({ logger: { error: () => {}, warn: (m) => warnings.push(m) } });
    server.register(clock);
    await server.listenAmqp(BROKER_URL, { prefix });
    const raw = await rawConnection();
    const channel = raw.channel as unknown as TestChannel;
    const client = connect(BROKER_URL, { prefix });
    try {
      const queue = callQueue(prefix, "Clock");
      const { queue: replies } = await raw.channel.assertQueue("", { exclusive: true });
      const answers: { correlationId?: string; body: unknown }[] = [];
      await raw.channel.consume(replies, (m) => {
        if (m) answers.push({ correlationId: m.properties.correlationId, body: m.content });
      }, { noAck: true });
      const garbage = [
        { bytes: new Uint8Array([0xc1, 0xff, 0x00]), replyTo: replies, id: "41" }, // not msgpack
        { bytes: encode([1, 42, null, "a response"]), replyTo: replies, id: "42" }, // no call
        { bytes: encode({ method: "Clock.tick" }), replyTo: undefined, id: "43" }, // no reply
      ];
      for (const g of garbage) {
        raw.channel.publish("", queue, raw.toBuffer(g.bytes), {
          persistent: true,
          replyTo: g.replyTo,
          correlationId: g.id,
          headers: { "x-mine": g.id },
        });
      }
      await channel.waitForConfirms();
      // The callers that named a reply queue are answered at once, by correlation id.
      await waitFor(() => answers.length === 2, "two error replies", 10_000);
      for (const answer of answers) {
        const reply = decodeMessage(answer.body as Uint8Array);
        assert.equal(reply.type, 1);
        if (reply.type !== 1) continue;
        assert.equal(reply.msgid, Number(answer.correlationId));
        assert.equal((reply.error as { code: number }).code, -32600);
      }
      // All three wait in the dead-letter queue, unchanged, with why and where from.
      const dead: { content: Uint8Array; headers: Record<string, unknown> }[] = [];
      await waitFor(
        async () => {
          const m = await channel.get(deadQueue(prefix), { noAck: true });
          if (m) dead.push({ content: m.content, headers: m.properties.headers ?? {} });
          return dead.length === 3;
        },
        "three dead messages",
        10_000,
      );
      dead.sort((a, b) => String(a.headers["x-mine"]).localeCompare(String(b.headers["x-mine"])));
      for (const [i, d] of dead.entries()) {
        assert.deepEqual(new Uint8Array(d.content), garbage[i].bytes);
        assert.equal(d.headers[DEAD_FROM_HEADER], queue);
        assert.equal(typeof d.headers[DEAD_REASON_HEADER], "string");
      }
      assert.match(String(dead[0].headers[DEAD_REASON_HEADER]), /not msgpack/);
      // Nothing was requeued, and the worker serves on.
      const { messageCount } = await channel.checkQueue(queue);
      assert.equal(messageCount, 0);
      assert.equal(await client.call("Clock.tick", { ms: 0 }, { timeout: 10_000 }), "tock");
      assert.ok(warnings.some((w) => w.includes(`moved to ${deadQueue(prefix)}`)));
    } finally {
      await client.close();
      await server.close();
      await raw.close();
      await deleteQueues(
        [callQueue(prefix, "Clock"), deadQueue(prefix)],
        [eventsExchange(prefix)],
      );
    }
  },
});

Deno.test({
  name: "amqp: calls made while the broker is down wait for it within their deadline",
  ignore: SKIP,
  async fn() {
    const prefix = uniquePrefix("down");
    const server = new Server({ logger: { error: () => {}, warn: () => {} } });
    server.register(clock);
    await server.listenAmqp(BROKER_URL, { prefix });
    const proxy = startProxy();
    const client = connect(proxy.url, { prefix });
    try {
      assert.equal(await client.call("Clock.tick", { ms: 0 }, { timeout: 10_000 }), "tock");
      // The broker "restarts": connections are cut and refused for 1.5 s.
      proxy.down = true;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = performance.now();
      const during = client.call("Clock.tick", { ms: 0 }, { timeout: 10_000 });
      setTimeout(() => proxy.down = false, 1500);
      assert.equal(await during, "tock");
      const waited = performance.now() - started;
      assert.ok(waited >= 1000, `answered after ${waited} ms`);
      // A deadline shorter than the outage fails by it (a little before when the next try
      // would come too late), saying the broker cannot be reached.
      proxy.down = true;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const short = performance.now();
      await assert.rejects(
        () => client.call("Clock.tick", { ms: 0 }, { timeout: 700 }),
        (error: Error) => /timed out after 700 ms|cannot reach the broker/.test(error.message),
      );
      const gaveUp = performance.now() - short;
      assert.ok(gaveUp < 1500, `gave up after ${gaveUp} ms`);
    } finally {
      proxy.down = false;
      await client.close();
      await server.close();
      await proxy.close();
      await deleteQueues(
        [callQueue(prefix, "Clock"), deadQueue(prefix)],
        [eventsExchange(prefix)],
      );
    }
  },
});
