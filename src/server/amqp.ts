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
  CALL_CANCEL,
  callQueue,
  cancelExchange,
  deadQueue,
  declareCallQueue,
  declareCancelExchange,
  declareDeadQueue,
  declareEventsExchange,
  DEFAULT_PREFIX,
  eventsExchange,
} from "../wire/amqp/conventions.ts";
import { type AmqpChannel, type AmqpLibrary, describeError, redact } from "../wire/amqp/amqplib.ts";
import { AmqpLink } from "../wire/amqp/link.ts";
import { AmqpCalls, type AmqpCallSession } from "./amqp_calls.ts";
import { AmqpCancels } from "./amqp_cancel.ts";
import { type AmqpStreamLimits, AmqpStreams } from "./amqp_streams.ts";
import { decodeMessage } from "../wire/msgpackrpc/codec.ts";
import { rpcError } from "../core/errors.ts";
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
  /** Limits on the streamed results this worker produces (per connection). */
  streams?: AmqpStreamLimits;
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

/** The consumers one connection runs, so shutdown can cancel them, and its streams. */
interface Consumers {
  tags: string[];
  streams: AmqpStreams;
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
  readonly #streamLimits?: AmqpStreamLimits;
  /** The streams of the connection set up last (ended when it is lost). */
  #streams?: AmqpStreams;
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
    this.#streamLimits = options.streams;
    this.#calls = new AmqpCalls({
      cancels: new AmqpCancels(),
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
      onLost: (why) => {
        this.#streams?.close(rpcError("Unavailable", `the worker lost the broker (${why})`));
        if (reconnect) {
          this.#logger.warn(`amqp: lost the connection to ${this.url} (${why}); reconnecting`);
        } else this.#logger.error(`amqp: lost the connection to ${this.url} (${why})`);
      },
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
    // Credit and cancels come on this connection's own queue, read without acks or prefetch
    // so that no call in hand holds them up; the broker deletes it with the connection.
    const { queue: control } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
    const streams = new AmqpStreams(channel, control, lib.toBuffer, this.#streamLimits);
    const cancels = cancelExchange(this.#prefix);
    await declareCancelExchange(channel, cancels);
    for (const name of this.#interfaces) await channel.bindQueue(control, cancels, name);
    const tags: string[] = [];
    const { consumerTag } = await channel.consume(control, (message) => {
      if (message !== null) this.#control(streams, message.content);
    }, { noAck: true });
    tags.push(consumerTag);
    const session = { channel, toBuffer: lib.toBuffer, streams };
    const consume = (queue: string, iface: string | undefined) =>
      this.#consume(session, queue, iface, lib);
    // Per consumer: RabbitMQ 4.3 refuses channel-wide ("global") QoS by default.
    await channel.prefetch(this.#prefetch, false);
    await declareDeadQueue(channel, this.#dead);
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
    this.#streams = streams;
    return { tags, streams };
  }

  /** A message on the control queue: a cancel, or credit/cancel for a stream. */
  #control(streams: AmqpStreams, content: Uint8Array): void {
    let message;
    try {
      message = decodeMessage(content);
    } catch {
      return; // not ours to read: nothing is waiting on it
    }
    if (message.type !== 2) return;
    if (message.method === CALL_CANCEL) this.#calls.cancels.heard(message.params);
    else streams.receive(message.method, message.params);
  }

  async #consume(
    session: AmqpCallSession,
    queue: string,
    iface: string | undefined,
    lib: AmqpLibrary,
  ): Promise<string> {
    const channel = session.channel;
    const { consumerTag } = await channel.consume(queue, (delivery) => {
      if (delivery === null) return this.#cancelled(session, queue, iface, lib);
      const done = this.#calls.handle(session, delivery, iface).catch((error) => {
        this.#logger.error(`amqp transport: ${error instanceof Error ? error.stack : error}`);
      });
      this.#inflight.add(done);
      done.finally(() => this.#inflight.delete(done));
    });
    return consumerTag;
  }

  /** The broker cancelled a consumer (its queue was deleted): declare it again. */
  #cancelled(
    session: AmqpCallSession,
    queue: string,
    iface: string | undefined,
    lib: AmqpLibrary,
  ): void {
    const channel = session.channel;
    const live = this.#link.current;
    if (this.#stopped || iface === undefined || live?.channel !== channel) return;
    this.#logger.warn(`amqp: queue ${queue} went away; declaring it again`);
    declareCallQueue(channel, queue)
      .then(() => this.#consume(session, queue, iface, lib))
      .then((tag) => live.state.tags.push(tag))
      .catch((error) =>
        this.#logger.warn(`amqp: cannot consume ${queue}: ${describeError(error, "")}`)
      );
  }

  shutdown(): Promise<void> {
    this.#stopped ??= this.#link.close(async (live) => {
      if (live) {
        for (const tag of live.state.tags) await live.channel.cancel(tag).catch(() => {});
        // Streams may never end by themselves: their callers are told, and their handlers stopped.
        live.state.streams.close(rpcError("Unavailable", "the worker is shutting down"), true);
      }
      // Calls already delivered finish, reply and are acknowledged before we disconnect.
      while (this.#inflight.size) await Promise.allSettled([...this.#inflight]);
    });
    return this.#stopped;
  }
}
