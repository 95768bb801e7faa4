/**
 * msgpack-rpc fuzz traffic through RabbitMQ: mutated bodies published to the server's
 * call queues (with a direct reply-to) and to its events exchange, the broker's backlog
 * kept small, replies counted by error class.
 *
 * @module
 */

import {
  callQueue,
  deadQueue,
  DIRECT_REPLY_TO,
  eventsExchange,
} from "../../src/wire/amqp/conventions.ts";
import {
  type AmqpChannel,
  type AmqpConnection,
  type AmqpLibrary,
  loadAmqp,
} from "../../src/wire/amqp/amqplib.ts";
import { decodeMessage, toErrorShape } from "../../src/wire/msgpackrpc/codec.ts";
import type { ServerChild } from "./child.ts";
import { messageBytes, plainRequest } from "./msgpack_gen.ts";
import type { Rng } from "./rng.ts";
import type { Driver, RoundResult } from "./runner.ts";
import type { SavedInput, Stats } from "./stats.ts";

const INTERFACES = ["Calculator", "Echo"];
const BACKLOG = 200;

type CheckingChannel = AmqpChannel & { checkQueue(q: string): Promise<{ messageCount: number }> };

/** The AMQP fuzz traffic (one lane: the broker serialises per queue anyway). */
export class AmqpDriver implements Driver {
  #lib!: AmqpLibrary;
  #conn?: AmqpConnection;
  #channel?: CheckingChannel;
  #requests = 0;
  #replies = 0;
  #normalWaiter?: (ok: boolean, detail: string) => void;
  #normalId = 0;

  constructor(
    readonly rng: Rng,
    readonly stats: Stats,
    readonly url: string,
    readonly prefix: string,
    readonly perRound: number,
  ) {}

  async #open(): Promise<CheckingChannel> {
    if (this.#channel) return this.#channel;
    this.#lib ??= await loadAmqp();
    this.#conn = await this.#lib.connect(this.url);
    this.#conn.on("error", () => {});
    const channel = await this.#conn.createChannel() as CheckingChannel;
    channel.on("error", () => {});
    await channel.consume(DIRECT_REPLY_TO, (m) => {
      if (!m) return;
      const id = m.properties.correlationId ?? "";
      let outcome = "bad reply";
      let ok = false;
      try {
        const reply = decodeMessage(m.content);
        if (reply.type === 1) {
          ok = reply.error == null && reply.result === 5;
          outcome = reply.error == null ? "ok" : toErrorShape(reply.error).name;
        }
      } catch {
        // counted as a bad reply
      }
      if (id.startsWith("normal-")) return this.#normalWaiter?.(ok, outcome);
      this.#replies++;
      this.stats.count(outcome);
    }, { noAck: true });
    this.#channel = channel;
    return channel;
  }

  reset(_server: ServerChild): Promise<void> {
    return Promise.resolve(); // the broker is the same; the new server consumes the same queues
  }

  async round(_lane: number, budget: number): Promise<RoundResult> {
    const channel = await this.#open();
    const result: RoundResult = { sent: [], unexpected: [] };
    const n = Math.min(budget, this.perRound);
    for (let i = 0; i < n; i++) {
      const body = messageBytes(this.rng, i);
      const iface = this.rng.pick(INTERFACES);
      const toEvents = this.rng.chance(0.1);
      const target = toEvents
        ? `${eventsExchange(this.prefix)}/${iface}.echo`
        : callQueue(this.prefix, iface);
      if (toEvents) {
        channel.publish(
          eventsExchange(this.prefix),
          `${iface}.${this.rng.pick(["echo", "add", "x"])}`,
          this.#lib.toBuffer(body),
        );
      } else {
        this.#requests++;
        channel.publish("", callQueue(this.prefix, iface), this.#lib.toBuffer(body), {
          replyTo: DIRECT_REPLY_TO,
          correlationId: `f${this.#requests}`,
        });
      }
      result.sent.push({ target, bytes: body } satisfies SavedInput);
    }
    this.stats.inputs += n;
    // Keep the broker's backlog small: wait until the server has taken most of it.
    const end = Date.now() + 60_000;
    for (;;) {
      let backlog = 0;
      for (const iface of INTERFACES) {
        backlog += (await channel.checkQueue(callQueue(this.prefix, iface))).messageCount;
      }
      if (backlog <= BACKLOG) break;
      if (Date.now() > end) {
        result.timedOut = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return result;
  }

  async normal(): Promise<number> {
    const channel = await this.#open();
    const started = performance.now();
    const answer = new Promise<[boolean, string]>((resolve) =>
      this.#normalWaiter = (ok, d) => resolve([ok, d])
    );
    channel.publish(
      "",
      callQueue(this.prefix, "Calculator"),
      this.#lib.toBuffer(plainRequest(1, "Calculator.add", [2, 3])),
      {
        replyTo: DIRECT_REPLY_TO,
        correlationId: `normal-${++this.#normalId}`,
      },
    );
    const [ok, detail] = await answer;
    if (!ok) throw new Error(`known call answered ${detail}`);
    return performance.now() - started;
  }

  /** Counts requests that got no reply, removes the queues and disconnects. */
  async close(): Promise<void> {
    await new Promise((r) => setTimeout(r, 1000)); // late replies
    this.stats.count(
      "no reply (a notification, or a message that is no call without a reply queue)",
      Math.max(0, this.#requests - this.#replies),
    );
    const channel = this.#channel;
    if (channel) {
      for (const iface of INTERFACES) {
        await channel.deleteQueue(callQueue(this.prefix, iface)).catch(() => {});
      }
      await channel.deleteExchange(eventsExchange(this.prefix)).catch(() => {});
      // Messages that were no call wait in the dead-letter queue: count them, then drop it.
      const dead = await channel.checkQueue(deadQueue(this.prefix)).catch(() => undefined);
      if (dead?.messageCount) this.stats.count("moved to the dead-letter queue", dead.messageCount);
      await channel.deleteQueue(deadQueue(this.prefix)).catch(() => {});
    }
    await this.#conn?.close().catch(() => {});
  }
}
