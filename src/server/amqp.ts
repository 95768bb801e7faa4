/**
 * The AMQP 0-9-1 transport (RabbitMQ), worker side: consumes the durable queue of each served
 * interface as one of any number of competing consumers, over one connection that heals in
 * the background when lost (`src/wire/amqp/link.ts`, shared with the client). What one delivery
 * becomes (run, reply, then ack) is `amqp_calls.ts`; a message that is no call goes to
 * `<prefix>.dead` (`amqp_dead.ts`); idempotent methods run once per call id
 * (`amqp_dedupe.ts`). A worker that dies mid-call never acknowledges, so the broker hands the
 * call to another worker.
 *
 * Wire conventions (queue names, headers, the msgpack-rpc body) live in
 * `src/wire/amqp/`, shared with the client.
 *
 * @module
 */

import {
  callQueue,
  deadQueue,
  declareCallQueue,
  declareDeadQueue,
  declareEventsExchange,
  DEFAULT_PREFIX,
  eventsExchange,
} from "../wire/amqp/conventions.ts";
import { type AmqpChannel, type AmqpLibrary, describeError, redact } from "../wire/amqp/amqplib.ts";
import { AmqpLink } from "../wire/amqp/link.ts";
import { AmqpCalls } from "./amqp_calls.ts";
import { Dedupe, type DedupeStore, MemoryDedupeStore } from "./amqp_dedupe.ts";
import type { Logger, Router } from "../core/router/router.ts";

/** Options of {@linkcode serveAmqp}. */
export interface AmqpServeOptions {
  /** Prefix of queue and exchange names (default `switchboard`); the same as the clients'. */
  prefix?: string;
  /** Calls this worker holds unacknowledged at once, per queue it consumes (default 32). */
  prefetch?: number;
  /** Interfaces to consume (default: every registered one but `system` and `rpc`). */
  interfaces?: readonly string[];
  /** Which methods this listener exposes (all by default); others are "not found". */
  expose?: (method: string) => boolean;
  /**
   * Methods whose outcome is remembered by call id, so a redelivered call is answered
   * from memory instead of running twice. Off by default: handlers opt in.
   */
  idempotent?: readonly string[] | ((method: string) => boolean);
  /** Where idempotent outcomes are kept (default: this process, the last 10,000). */
  dedupeStore?: DedupeStore;
  /** Reconnect with backoff when the broker connection is lost (default true). */
  reconnect?: boolean;
  /** Where to report connection trouble (default: the router's logger). */
  logger?: Logger;
}

/** A worker consuming calls from RabbitMQ. */
export interface AmqpListener {
  /** The broker, password hidden. */
  readonly url: string;
  /** The call queues consumed, e.g. `switchboard.Calculator`. */
  readonly queues: readonly string[];
  /** Whether the worker is connected right now. */
  readonly connected: boolean;
  /** Stops consuming, lets in-flight calls finish (reply, ack), then disconnects. */
  shutdown(): Promise<void>;
}

/**
 * Serves a router's interfaces from RabbitMQ. Resolves once consuming; rejects when the broker
 * cannot be reached (later losses of the connection are retried with backoff).
 *
 * @example Not run by `deno test --doc`: it needs a RabbitMQ broker
 * ```ts ignore
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Router, serveAmqp } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 * const router = new Router().register(implement(Calc, { add: ({ a, b }) => a + b }));
 * const worker = await serveAmqp(router, "amqp://127.0.0.1", { prefetch: 16 });
 * // … later
 * await worker.shutdown();
 * ```
 */
export async function serveAmqp(
  router: Router,
  url: string | URL,
  options: AmqpServeOptions = {},
): Promise<AmqpListener> {
  const worker = new AmqpWorker(router, url, options);
  await worker.start();
  return worker;
}

/** The consumers one connection runs, so shutdown can cancel them. */
interface Consumers {
  tags: string[];
}

class AmqpWorker implements AmqpListener {
  readonly url: string;
  readonly queues: readonly string[];
  readonly #dead: string;
  readonly #prefix: string;
  readonly #prefetch: number;
  readonly #interfaces: readonly string[];
  readonly #logger: Logger;
  readonly #calls: AmqpCalls;
  readonly #link: AmqpLink<Consumers>;
  readonly #inflight = new Set<Promise<void>>();
  #stopped?: Promise<void>;

  constructor(router: Router, url: string | URL, options: AmqpServeOptions) {
    this.url = redact(url);
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#prefetch = options.prefetch ?? 32;
    if (!(Number.isInteger(this.#prefetch) && this.#prefetch >= 1 && this.#prefetch <= 65535)) {
      throw new TypeError(`prefetch must be an integer from 1 to 65535, got ${options.prefetch}`);
    }
    const known = router.interfaces().map((i) => i.name);
    this.#interfaces = options.interfaces ??
      known.filter((name) => name !== "system" && name !== "rpc");
    for (const name of this.#interfaces) {
      if (!known.includes(name)) throw new Error(`cannot serve ${name} over AMQP: not registered`);
    }
    if (this.#interfaces.length === 0) throw new Error("no interface to serve over AMQP");
    this.queues = this.#interfaces.map((name) => callQueue(this.#prefix, name));
    this.#dead = deadQueue(this.#prefix);
    this.#logger = options.logger ?? router.logger;
    this.#calls = new AmqpCalls({
      router,
      prefix: this.#prefix,
      dead: this.#dead,
      expose: options.expose,
      dedupe: options.idempotent &&
        new Dedupe(options.idempotent, options.dedupeStore ?? new MemoryDedupeStore()),
      logger: this.#logger,
    });
    const reconnect = options.reconnect ?? true;
    this.#link = new AmqpLink({
      url,
      setup: (channel, lib) => this.#setup(channel, lib),
      heal: reconnect,
      onLost: (why) =>
        reconnect
          ? this.#logger.warn(`amqp: lost the connection to ${this.url} (${why}); reconnecting`)
          : this.#logger.error(`amqp: lost the connection to ${this.url} (${why})`),
      onReconnected: () => this.#logger.warn(`amqp: reconnected to ${this.url}`),
      onRetryFailed: (error) =>
        this.#logger.warn(
          `amqp: cannot reconnect to ${this.url}: ${describeError(error, "refused")}`,
        ),
    });
  }

  get connected(): boolean {
    return this.#link.current !== undefined;
  }

  async start(): Promise<void> {
    try {
      await this.#link.open();
    } catch (error) {
      throw new Error(`cannot serve from ${this.url}: ${describeError(error, "refused")}`);
    }
  }

  /** Declares the topology on a fresh channel and starts consuming. */
  async #setup(channel: AmqpChannel, lib: AmqpLibrary): Promise<Consumers> {
    const consume = (queue: string, iface: string | undefined) =>
      this.#consume(channel, queue, iface, lib);
    // Per consumer: RabbitMQ 4.3 refuses channel-wide ("global") QoS by default.
    await channel.prefetch(this.#prefetch, false);
    await declareDeadQueue(channel, this.#dead);
    const tags: string[] = [];
    for (const [i, queue] of this.queues.entries()) {
      await declareCallQueue(channel, queue);
      tags.push(await consume(queue, this.#interfaces[i]));
    }
    // Notifications: every worker gets its own queue bound to its interfaces' methods.
    const exchange = eventsExchange(this.#prefix);
    await declareEventsExchange(channel, exchange);
    const { queue: events } = await channel.assertQueue("", {
      exclusive: true,
      autoDelete: true,
    });
    for (const name of this.#interfaces) await channel.bindQueue(events, exchange, `${name}.*`);
    tags.push(await consume(events, undefined));
    return { tags };
  }

  async #consume(
    channel: AmqpChannel,
    queue: string,
    iface: string | undefined,
    lib: AmqpLibrary,
  ): Promise<string> {
    const { consumerTag } = await channel.consume(queue, (delivery) => {
      if (delivery === null) return this.#cancelled(channel, queue, iface, lib);
      const done = this.#calls.handle(channel, delivery, iface, lib.toBuffer).catch((error) => {
        this.#logger.error(`amqp transport: ${error instanceof Error ? error.stack : error}`);
      });
      this.#inflight.add(done);
      done.finally(() => this.#inflight.delete(done));
    });
    return consumerTag;
  }

  /** The broker cancelled a consumer (its queue was deleted): declare it again. */
  #cancelled(
    channel: AmqpChannel,
    queue: string,
    iface: string | undefined,
    lib: AmqpLibrary,
  ): void {
    const live = this.#link.current;
    if (this.#stopped || iface === undefined || live?.channel !== channel) return;
    this.#logger.warn(`amqp: queue ${queue} went away; declaring it again`);
    declareCallQueue(channel, queue)
      .then(() => this.#consume(channel, queue, iface, lib))
      .then((tag) => live.state.tags.push(tag))
      .catch((error) =>
        this.#logger.warn(`amqp: cannot consume ${queue}: ${describeError(error, "")}`)
      );
  }

  shutdown(): Promise<void> {
    this.#stopped ??= this.#link.close(async (live) => {
      if (live) {
        for (const tag of live.state.tags) await live.channel.cancel(tag).catch(() => {});
      }
      // Calls already delivered finish, reply and are acknowledged before we disconnect.
      while (this.#inflight.size) await Promise.allSettled([...this.#inflight]);
    });
    return this.#stopped;
  }
}
