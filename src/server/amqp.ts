/**
 * The AMQP 0-9-1 transport (RabbitMQ), worker side: consumes the durable queue of each served
 * interface as one of any number of competing consumers, runs each call through the router,
 * publishes the reply and only then acknowledges the call (on the same channel, so the broker
 * has the reply before the ack). A worker that dies mid-call never acknowledges, so the broker
 * hands the call to another worker. A message that is no call goes to `<prefix>.dead` (see
 * `amqp_dead.ts`).
 *
 * Wire conventions (queue names, headers, the msgpack-rpc body) live in
 * `src/wire/amqp/`, shared with the client.
 *
 * @module
 */

import { exponentialBackoff } from "../core/backoff.ts";
import {
  callQueue,
  CONTENT_TYPE,
  DEADLINE_HEADER,
  deadQueue,
  declareCallQueue,
  declareDeadQueue,
  declareEventsExchange,
  DEFAULT_PREFIX,
  eventsExchange,
  interfaceOf,
  takeTrace,
} from "../wire/amqp/conventions.ts";
import {
  type AmqpChannel,
  type AmqpConnection,
  type AmqpLibrary,
  type AmqpMessage,
  loadAmqp,
  redact,
} from "../wire/amqp/amqplib.ts";
import {
  decodeMessage,
  encodeOutcome,
  MalformedMessageError,
  type Message,
} from "../wire/msgpackrpc/codec.ts";
import { deadLetter } from "./amqp_dead.ts";
import type { Call, Outcome } from "../core/context.ts";
import { rpcError, unencodable } from "../core/errors.ts";
import type { Logger, Router } from "../core/router/router.ts";

/** Where idempotent calls' outcomes are remembered by call id. */
export interface DedupeStore {
  /** The outcome recorded for a call id, if any. */
  get(id: string): Outcome | undefined | Promise<Outcome | undefined>;
  /** Records a call's outcome. */
  set(id: string, outcome: Outcome): void | Promise<void>;
}

/**
 * A bounded in-memory {@linkcode DedupeStore}: the last `limit` outcomes of this process.
 * Catches redeliveries to the same worker; share a store across workers to catch all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryDedupeStore } from "@switchboard/rpc/server";
 *
 * const store = new MemoryDedupeStore(2);
 * store.set("a", { ok: true, value: 1 });
 * store.set("b", { ok: true, value: 2 });
 * store.set("c", { ok: true, value: 3 });
 * assert.equal(store.get("a"), undefined); // the oldest is forgotten
 * assert.deepEqual(store.get("c"), { ok: true, value: 3 });
 * ```
 */
export class MemoryDedupeStore implements DedupeStore {
  readonly #limit: number;
  readonly #outcomes = new Map<string, Outcome>();

  /** Remembers at most `limit` outcomes (default 10,000), forgetting the oldest first. */
  constructor(limit = 10_000) {
    this.#limit = limit;
  }

  /** The outcome recorded for a call id, if still remembered. */
  get(id: string): Outcome | undefined {
    return this.#outcomes.get(id);
  }

  /** Records an outcome, evicting the oldest beyond the limit. */
  set(id: string, outcome: Outcome): void {
    this.#outcomes.delete(id);
    this.#outcomes.set(id, outcome);
    if (this.#outcomes.size > this.#limit) {
      this.#outcomes.delete(this.#outcomes.keys().next().value!);
    }
  }

  /** How many outcomes are remembered. */
  get size(): number {
    return this.#outcomes.size;
  }
}

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

/** How long a worker waits before reconnecting to a lost broker: 200 ms doubling to 5 s. */
const RECONNECT = exponentialBackoff({ initial: 200, max: 5_000 });

/**
 * Serves a router's interfaces from RabbitMQ. Resolves once consuming; rejects when the broker
 * cannot be reached (later losses of the connection are retried with backoff).
 *
 * @example
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

class AmqpWorker implements AmqpListener {
  readonly url: string;
  readonly queues: readonly string[];
  readonly #dead: string;
  readonly #href: string;
  readonly #router: Router;
  readonly #prefix: string;
  readonly #prefetch: number;
  readonly #interfaces: readonly string[];
  readonly #expose?: (method: string) => boolean;
  readonly #idempotent?: (method: string) => boolean;
  readonly #store: DedupeStore;
  readonly #running = new Map<string, Promise<Outcome>>();
  readonly #reconnect: boolean;
  readonly #logger: Logger;
  readonly #inflight = new Set<Promise<void>>();
  #lib?: AmqpLibrary;
  #connection?: AmqpConnection;
  #channel?: AmqpChannel;
  #consumers: string[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #closing = false;
  #stopped?: Promise<void>;

  constructor(router: Router, url: string | URL, options: AmqpServeOptions) {
    this.#href = new URL(url).href;
    this.url = redact(url);
    this.#router = router;
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
    this.#expose = options.expose;
    const idempotent = options.idempotent;
    this.#idempotent = typeof idempotent === "function"
      ? idempotent
      : idempotent
      ? (method) => idempotent.includes(method)
      : undefined;
    this.#store = options.dedupeStore ?? new MemoryDedupeStore();
    this.#reconnect = options.reconnect ?? true;
    this.#logger = options.logger ?? router.logger;
  }

  get connected(): boolean {
    return this.#channel !== undefined;
  }

  async start(): Promise<void> {
    this.#lib = await loadAmqp();
    try {
      await this.#connect();
    } catch (error) {
      throw new Error(`cannot serve from ${this.url}: ${message(error)}`);
    }
  }

  /** Opens a connection and a channel, declares the topology and starts consuming. */
  async #connect(): Promise<void> {
    const lib = this.#lib!;
    const connection = await lib.connect(this.#href);
    // Unheard "error" events would throw; "close" follows them and is watched below.
    let closed = false;
    connection.on("error", () => {});
    connection.on("close", () => closed = true);
    let channel: AmqpChannel | undefined;
    try {
      channel = await connection.createChannel();
      channel.on("error", () => {});
      channel.on("close", () => closed = true);
      // Per consumer: RabbitMQ 4.3 refuses channel-wide ("global") QoS by default.
      await channel.prefetch(this.#prefetch, false);
      await declareDeadQueue(channel, this.#dead);
      const consumers: string[] = [];
      for (const [i, queue] of this.queues.entries()) {
        await declareCallQueue(channel, queue);
        consumers.push(await this.#consume(channel, queue, this.#interfaces[i]));
      }
      // Notifications: every worker gets its own queue bound to its interfaces' methods.
      const exchange = eventsExchange(this.#prefix);
      await declareEventsExchange(channel, exchange);
      const { queue: events } = await channel.assertQueue("", {
        exclusive: true,
        autoDelete: true,
      });
      for (const name of this.#interfaces) await channel.bindQueue(events, exchange, `${name}.*`);
      consumers.push(await this.#consume(channel, events, undefined));
      if (this.#closing) throw new Error("shutting down");
      if (closed) throw new Error("the connection closed while starting");
      this.#watch(connection, channel);
      this.#connection = connection;
      this.#channel = channel;
      this.#consumers = consumers;
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  async #consume(channel: AmqpChannel, queue: string, iface: string | undefined): Promise<string> {
    const { consumerTag } = await channel.consume(queue, (delivery) => {
      if (delivery === null) return this.#cancelled(channel, queue, iface);
      const done = this.#handle(channel, delivery, iface).catch((error) => {
        this.#logger.error(`amqp transport: ${error instanceof Error ? error.stack : error}`);
      });
      this.#inflight.add(done);
      done.finally(() => this.#inflight.delete(done));
    });
    return consumerTag;
  }

  /** The broker cancelled a consumer (its queue was deleted): declare it again. */
  #cancelled(channel: AmqpChannel, queue: string, iface: string | undefined): void {
    if (this.#closing || iface === undefined || channel !== this.#channel) return;
    this.#logger.warn(`amqp: queue ${queue} went away; declaring it again`);
    declareCallQueue(channel, queue)
      .then(() => this.#consume(channel, queue, iface))
      .then((tag) => this.#consumers.push(tag))
      .catch((error) => this.#logger.warn(`amqp: cannot consume ${queue}: ${message(error)}`));
  }

  #watch(connection: AmqpConnection, channel: AmqpChannel): void {
    let lost = false;
    const onLost = (why: string) => {
      if (lost) return;
      lost = true;
      if (this.#channel === channel) {
        this.#channel = undefined;
        this.#connection = undefined;
        this.#consumers = [];
      }
      connection.close().catch(() => {});
      if (this.#closing) return;
      if (!this.#reconnect) {
        this.#logger.error(`amqp: lost the connection to ${this.url} (${why})`);
        return;
      }
      this.#logger.warn(`amqp: lost the connection to ${this.url} (${why}); reconnecting`);
      this.#retry(1);
    };
    connection.on("close", (error?: unknown) => onLost(message(error ?? "closed")));
    channel.on("close", () => onLost("channel closed"));
  }

  #retry(attempt: number): void {
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      if (this.#closing) return;
      try {
        await this.#connect();
        this.#logger.warn(`amqp: reconnected to ${this.url}`);
      } catch (error) {
        if (this.#closing) return;
        this.#logger.warn(`amqp: cannot reconnect to ${this.url}: ${message(error)}`);
        this.#retry(attempt + 1);
      }
    }, RECONNECT.delay(attempt));
  }

  /** One delivery: decode, dispatch, reply, then ack. */
  async #handle(channel: AmqpChannel, delivery: AmqpMessage, iface?: string): Promise<void> {
    let request: Message;
    try {
      request = decodeMessage(delivery.content);
      if (request.type === 1) throw new Error("a response is not a call");
    } catch (error) {
      // A poison message would come back forever if requeued: it goes where it can be seen.
      const reason = message(error);
      this.#warnDead(delivery.fields.routingKey, reason);
      deadLetter(channel, delivery, reason, {
        queue: this.#dead,
        msgid: error instanceof MalformedMessageError ? error.msgid : undefined,
        toBuffer: this.#lib!.toBuffer,
      });
      return;
    }
    const props = delivery.properties;
    const method = iface !== undefined && !request.method.includes(".")
      ? `${iface}.${request.method}`
      : request.method;
    const call: Call = { method, params: request.params, protocol: "amqp" };
    const deadline = Number(props.headers?.[DEADLINE_HEADER]);
    if (Number.isFinite(deadline) && deadline > 0) call.deadline = deadline;
    if (props.userId) call.caller = { id: props.userId };
    const trace = takeTrace(props.headers);
    if (trace) call.trace = trace;
    if (props.messageId) call.id = props.messageId;
    else if (request.type === 0) call.id = request.msgid;

    if (request.type === 2) {
      call.notification = true;
      await this.#dispatch(call, iface);
      settle(() => channel.ack(delivery));
      return;
    }
    const outcome = await this.#dispatchOnce(call, iface);
    if (props.replyTo) {
      let body: Uint8Array;
      try {
        body = encodeOutcome(request.msgid, outcome);
      } catch (error) {
        body = encodeOutcome(request.msgid, {
          ok: false,
          error: unencodable("the result", "msgpack", error),
        });
        this.#logger.error(`amqp: cannot encode the result of ${method}: ${message(error)}`);
      }
      try {
        // Frames of one channel are handled in order: the broker has the reply before it
        // sees the ack, so waiting for a confirm here would add latency, not safety.
        channel.publish("", props.replyTo, this.#lib!.toBuffer(body), {
          correlationId: props.correlationId,
          contentType: CONTENT_TYPE,
        });
      } catch {
        // The channel is gone: no ack either, so the broker redelivers the call.
        return;
      }
    }
    settle(() => channel.ack(delivery));
  }

  /** Dead-lettered messages not yet reported, and when the last report went out. */
  #deadUnreported = 0;
  #deadReportedAt = 0;

  /** Reports dead-lettered messages: the first at once, then a count at most once a second. */
  #warnDead(from: string, reason: string): void {
    this.#deadUnreported++;
    const now = Date.now();
    if (now - this.#deadReportedAt < 1000) return;
    const more = this.#deadUnreported > 1 ? ` (and ${this.#deadUnreported - 1} more)` : "";
    this.#logger.warn(
      `amqp: a message from ${from} is no call (${reason}); moved to ${this.#dead}${more}`,
    );
    this.#deadUnreported = 0;
    this.#deadReportedAt = now;
  }

  /** Runs an idempotent call at most once per call id (within the store's memory). */
  #dispatchOnce(call: Call, iface?: string): Promise<Outcome> {
    const id = call.id;
    if (!this.#idempotent?.(call.method) || typeof id !== "string") {
      return this.#dispatch(call, iface);
    }
    const running = this.#running.get(id);
    if (running) return running;
    const once = (async () => {
      const known = await this.#store.get(id);
      if (known) return known;
      const outcome = await this.#dispatch(call, iface);
      await this.#store.set(id, outcome);
      return outcome;
    })();
    this.#running.set(id, once);
    once.finally(() => this.#running.delete(id)).catch(() => {});
    return once;
  }

  #dispatch(call: Call, iface?: string): Promise<Outcome> {
    if (iface !== undefined && interfaceOf(call.method) !== iface) {
      return Promise.resolve({
        ok: false,
        error: rpcError(
          "MethodNotFound",
          `Method not found: ${call.method}${
            iface === undefined ? "" : ` (queue ${callQueue(this.#prefix, iface)})`
          }`,
        ).toShape(),
      });
    }
    return this.#router.dispatch(this.#expose ? { ...call, expose: this.#expose } : call);
  }

  shutdown(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async #shutdown(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    const channel = this.#channel, connection = this.#connection;
    if (channel) {
      for (const tag of this.#consumers) await channel.cancel(tag).catch(() => {});
    }
    // Calls already delivered finish, reply and are acknowledged before we disconnect.
    while (this.#inflight.size) await Promise.allSettled([...this.#inflight]);
    this.#channel = undefined;
    this.#connection = undefined;
    await channel?.close().catch(() => {});
    await connection?.close().catch(() => {});
  }
}

/** Runs an ack/nack, which throws when the channel has closed (the broker redelivers). */
function settle(step: () => void): void {
  try {
    step();
  } catch {
    // Channel closed: nothing to settle any more.
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
