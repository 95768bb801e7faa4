/**
 * msgpack-rpc over AMQP 0-9-1 (RabbitMQ), client side. The conventions both sides share are in
 * `src/wire/amqp/`, with the connection (`link.ts`) the worker holds too.
 *
 * A call is a persistent message carrying `[0, msgid, method, params]`, published with
 * publisher confirms to the durable queue of its interface (`switchboard.<Interface>`), where
 * any number of workers compete for it. The reply `[1, msgid, error, result]` comes back by
 * RabbitMQ's direct reply-to. The caller's deadline becomes the message's `expiration` (the
 * broker drops it unrun) and a header (the worker refuses it unrun). Replies are correlated by
 * msgid; a second reply to the same call (a redelivery after a worker died) is ignored.
 * Notifications go to the topic exchange `switchboard.events` with the method as routing key,
 * and reach every process serving the interface.
 *
 * amqplib (a well-kept, widely used AMQP 0-9-1 client that runs in Deno through npm) is
 * imported lazily, the first time an `amqp:` client connects, so HTTP-only users of `mod.ts`
 * never load it. The connection is opened on the first call and again after it is lost.
 *
 * @module
 */

import {
  decodeMessage,
  encodeNotification,
  encodeRequest,
  type Message,
  responseOutcome,
} from "../wire/msgpackrpc/codec.ts";
import type { Outcome } from "../core/context.ts";
import { type RpcError, rpcError } from "../core/errors.ts";
import { STREAM_CANCEL } from "../wire/msgpackrpc/reserved.ts";
import { abortReason } from "../core/abort.ts";
import { type ConnectOptions, registerTransport } from "./connect.ts";
import { ENTRIES } from "../entries.ts";
import type { OutgoingCall, Transport } from "../core/client/transport.ts";
import { PendingCalls } from "../core/pending.ts";
import {
  CALL_CANCEL,
  callQueue,
  cancelExchange,
  CONTENT_TYPE,
  declareCallQueue,
  declareCancelExchange,
  declareEventsExchange,
  DEFAULT_PREFIX,
  DIRECT_REPLY_TO,
  eventsExchange,
  interfaceOf,
  outgoingProperties,
  STREAM_HEADER,
  STREAM_IDLE_HEADER,
} from "../wire/amqp/conventions.ts";
import { AmqpClientStreams, CONTROL_PROPERTIES } from "./amqp_streams.ts";
import { streamHandle } from "../wire/msgpackrpc/streams.ts";
import { DEFAULT_STREAM_WINDOW } from "../core/stream/consumer.ts";
import { wholeStreamParams } from "./amqp_params.ts";
import {
  type AmqpChannel,
  type AmqpMessage,
  describeError,
  publishConfirmed,
  redact,
} from "../wire/amqp/amqplib.ts";
import { AmqpLink, type AmqpSession } from "../wire/amqp/link.ts";

/** Options of `connect("amqp://…")`. */
export interface AmqpConnectOptions extends ConnectOptions {
  /** Prefix of queue and exchange names (default `switchboard`); the same as the workers'. */
  prefix?: string;
  /** The interface unqualified method names belong to (none by default). */
  defaultInterface?: string;
  /**
   * The `user-id` stamped on calls, which the broker checks against the login and workers
   * pass to handlers as the caller (default: the URL's user, else `guest`); false for none,
   * e.g. with certificate (EXTERNAL) logins.
   */
  userId?: string | false;
  /**
   * How long a call waits for an unreachable broker (a restart, say) before failing
   * `Unavailable` (default 10 s); a call whose deadline comes sooner waits until then.
   */
  connectWait?: number;
  /** Items of a streamed result granted at once, and the most ever held unread (default 16). */
  streamWindow?: number;
  /**
   * How long a streamed result may stay silent before it fails `Unavailable` as cut (default
   * 20 s); the worker sends keep-alives well within it, so only a dead worker is this quiet.
   */
  streamIdle?: number;
}

/** Default wait for an unreachable broker, for calls without a deadline. */
const DEFAULT_CONNECT_WAIT_MS = 10_000;
/** Default of {@linkcode AmqpConnectOptions.streamIdle}. */
const DEFAULT_STREAM_IDLE_MS = 20_000;

interface Pending {
  resolve(outcome: Outcome): void;
  reject(error: RpcError): void;
  /** Set when the call asked for a streamed result: the label of its stream. */
  stream?: string;
}

type Session = AmqpSession<void>;

/**
 * Calls over RabbitMQ: `connect("amqp://user:pass@host/vhost")`. Connects on the first call
 * and again after the connection is lost (calls in flight then fail as `Unavailable`: they may
 * or may not have run). Calls made while the broker cannot be reached wait for it, within
 * their deadline and `connectWait` (10 s by default).
 *
 * @example Not run by `deno test --doc`: it needs a RabbitMQ broker
 * ```ts ignore
 * import { connect } from "@switchboard/rpc";
 *
 * const client = connect("amqp://127.0.0.1");
 * console.log(await client.call("Calculator.add", { a: 1, b: 2 }, { timeout: 5000 }));
 * await client.close();
 * ```
 */
export class AmqpTransport implements Transport {
  readonly #shown: string;
  readonly #prefix: string;
  readonly #defaultInterface?: string;
  readonly #userId?: string;
  readonly #connectWait: number;
  readonly #clientId = crypto.randomUUID();
  readonly #pending = new PendingCalls<Pending>();
  readonly #link: AmqpLink<void>;
  readonly #window: number;
  readonly #streamIdle: number;
  readonly #streams: AmqpClientStreams;
  #closed = false;
  #ignoredReplies = 0;

  /** `url` is the broker, e.g. `amqp://guest:guest@127.0.0.1:5672/`. */
  constructor(url: string | URL, options: AmqpConnectOptions = {}) {
    const parsed = new URL(url);
    this.#shown = redact(parsed);
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#defaultInterface = options.defaultInterface;
    // amqplib logs in as guest when the URL names no user; the broker checks user-id.
    const userId = options.userId ?? (decodeURIComponent(parsed.username) || "guest");
    if (userId !== false) this.#userId = userId;
    this.#connectWait = options.connectWait ?? DEFAULT_CONNECT_WAIT_MS;
    this.#window = Math.max(1, Math.floor(options.streamWindow ?? DEFAULT_STREAM_WINDOW));
    this.#streamIdle = options.streamIdle ?? DEFAULT_STREAM_IDLE_MS;
    this.#streams = new AmqpClientStreams(
      (queue, correlationId, body) => this.#control(queue, correlationId, body),
      this.#streamIdle,
    );
    this.#link = new AmqpLink({
      url: parsed,
      confirm: true,
      setup: (channel) => this.#setup(channel),
      onLost: (reason) =>
        this.#failAll(rpcError(
          "Unavailable",
          `lost the connection to ${this.#shown} (${reason}); the call may or may not have run`,
        )),
    });
  }

  /** Replies that arrived for no waiting call (duplicates after redelivery, or too late). */
  get ignoredReplies(): number {
    return this.#ignoredReplies;
  }

  /** Calls waiting for their reply. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Streamed results being read now. */
  get streams(): number {
    return this.#streams.size;
  }

  /** Sends credit or cancel to a worker's control queue; false when not connected. */
  #control(queue: string, correlationId: string, body: Uint8Array): boolean {
    const session = this.#link.current;
    if (!session) return false;
    try {
      session.publish("", queue, session.toBuffer(body), { ...CONTROL_PROPERTIES, correlationId });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Tells every worker serving the call's interface that its caller gave up (docs/amqp.md):
   * one running it stops it, the others never run it. Best effort: the call's own promise
   * has settled already.
   */
  #cancel(request: OutgoingCall, messageId: string): void {
    const session = this.#link.current;
    const iface = interfaceOf(request.method) ?? this.#defaultInterface;
    if (!session || !iface) return;
    const exchange = cancelExchange(this.#prefix);
    const params: Record<string, unknown> = { id: messageId };
    if (request.deadline !== undefined) params.deadline = request.deadline;
    const body = session.toBuffer(encodeNotification(CALL_CANCEL, [params]));
    session.declareOnce(
      `exchange ${exchange}`,
      () => declareCancelExchange(session.channel, exchange),
    )
      .then(() =>
        session.publish(exchange, iface, body, { contentType: CONTENT_TYPE, userId: this.#userId })
      )
      .catch(() => {});
  }

  /**
   * A connection for a call: while the broker cannot be reached (it is restarting, say), the
   * link tries again until the call's deadline or `connectWait`, whichever is sooner.
   */
  async #openFor(request: OutgoingCall): Promise<Session> {
    if (this.#closed) throw rpcError("Unavailable", "the client is closed");
    const until = Math.min(request.deadline ?? Infinity, Date.now() + this.#connectWait);
    try {
      return this.#link.current ?? await this.#link.openBy(until, request.signal);
    } catch (error) {
      if (request.signal?.aborted) throw abortReason(request.method, request.signal);
      throw rpcError(
        "Unavailable",
        `cannot reach the broker at ${this.#shown}: ${describeError(error, "refused")}`,
      );
    }
  }

  /** Sets up each connection: replies by direct reply-to, unroutable calls returned. */
  async #setup(channel: AmqpChannel): Promise<void> {
    channel.on("return", (message: AmqpMessage) => this.#onReturn(message));
    await channel.consume(DIRECT_REPLY_TO, (m) => this.#onReply(m), { noAck: true });
  }

  /** Declares a queue or exchange once per connection (again after a failure). */
  async #declare(session: Session, key: string, declare: () => Promise<void>): Promise<void> {
    try {
      await session.declareOnce(key, declare);
    } catch (error) {
      throw rpcError(
        "Unavailable",
        `cannot declare ${key} on ${this.#shown}: ${describeError(session.failure ?? error, "")}`,
      );
    }
  }

  #onReply(message: AmqpMessage | null): void {
    if (message === null) return;
    let decoded: Message;
    try {
      decoded = decodeMessage(message.content);
    } catch {
      this.#ignoredReplies++;
      return;
    }
    const { correlationId, replyTo } = message.properties;
    if (decoded.type === 2) {
      const msgid = Number(correlationId);
      if (!this.#streams.receive(msgid, replyTo, decoded.method, decoded.params)) {
        this.#ignoredReplies++;
      }
      return;
    }
    const pending = decoded.type === 1 ? this.#pending.take(decoded.msgid) : undefined;
    if (decoded.type !== 1) {
      this.#ignoredReplies++;
      return;
    }
    const outcome = responseOutcome(decoded);
    const id = outcome.ok && replyTo ? streamHandle(outcome.value) : undefined;
    if (!pending) {
      this.#ignoredReplies++;
      // A stream opened for a caller that gave up meanwhile: its worker stops at once.
      if (id !== undefined) {
        this.#control(
          replyTo!,
          String(decoded.msgid),
          encodeNotification(STREAM_CANCEL, [{ stream: id }]),
        );
      }
      return;
    }
    if (id !== undefined && pending.stream !== undefined) {
      const consumer = this.#streams.open(
        decoded.msgid,
        id,
        replyTo!,
        this.#window,
        pending.stream,
      );
      pending.resolve({ ok: true, value: consumer });
      return;
    }
    pending.resolve(outcome);
  }

  #onReturn(message: AmqpMessage): void {
    const msgid = Number(message.properties.correlationId);
    if (this.#streams.returned(msgid, message.fields.routingKey)) return;
    const pending = this.#pending.take(msgid);
    if (!pending) return;
    pending.reject(rpcError(
      "Unavailable",
      `the broker could not route the call to queue ${message.fields.routingKey}`,
    ));
  }

  #failAll(error: RpcError): void {
    for (const [, pending] of this.#pending.takeAll()) pending.reject(error);
    this.#streams.failAll(error);
  }

  #queueFor(method: string): string {
    const iface = interfaceOf(method) ?? this.#defaultInterface;
    if (!iface) {
      throw rpcError(
        "MethodNotFound",
        `over AMQP a method names its interface (Interface.method): ${method}`,
      );
    }
    return callQueue(this.#prefix, iface);
  }

  /** Calls travel as msgpack-rpc messages through the broker. */
  rpcSystem(): string {
    return "msgpack-rpc";
  }

  async call(request: OutgoingCall): Promise<Outcome> {
    const queue = this.#queueFor(request.method);
    const session = await this.#openFor(request);
    await this.#declare(session, `queue ${queue}`, () => declareCallQueue(session.channel, queue));
    while (session.full) await session.full;
    const { headers, expiration } = outgoingProperties(request);
    if (expiration !== undefined && Number(expiration) <= 0) {
      throw rpcError("Timeout", `${request.method} timed out before it was sent`);
    }
    if (request.stream) {
      headers[STREAM_HEADER] = this.#window;
      if (this.#streamIdle > 0) headers[STREAM_IDLE_HEADER] = this.#streamIdle;
    }
    const params = request.declared
      ? await wholeStreamParams(request.method, request.params, request.declared)
      : request.params;
    if (request.signal?.aborted) throw abortReason(request.method, request.signal);
    return await new Promise<Outcome>((resolve, reject) => {
      const signal = request.signal;
      let msgid = 0;
      const onAbort = () => {
        if (!this.#pending.take(msgid)) return;
        reject(abortReason(request.method, signal!));
        this.#cancel(request, `${this.#clientId}.${msgid}`);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      msgid = this.#pending.add({
        resolve: (outcome) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(outcome);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
        stream: request.stream ? request.method : undefined,
      });
      const body = session.toBuffer(encodeRequest(msgid, request.method, params ?? []));
      const fail = (error: unknown) => {
        const pending = this.#pending.take(msgid);
        if (!pending) return;
        pending.reject(rpcError(
          "Unavailable",
          `the broker did not accept ${request.method}: ${describeError(error, "nack")}`,
        ));
      };
      try {
        session.publish("", queue, body, {
          persistent: true,
          mandatory: true,
          replyTo: DIRECT_REPLY_TO,
          correlationId: String(msgid),
          messageId: `${this.#clientId}.${msgid}`,
          userId: this.#userId,
          contentType: CONTENT_TYPE,
          expiration,
          headers,
        }, (error) => error && fail(session.failure ?? error));
      } catch (error) {
        fail(error);
      }
    });
  }

  async notify(request: OutgoingCall): Promise<void> {
    if (!interfaceOf(request.method) && !this.#defaultInterface) this.#queueFor(request.method);
    const method = interfaceOf(request.method)
      ? request.method
      : `${this.#defaultInterface}.${request.method}`;
    const session = await this.#openFor(request);
    const exchange = eventsExchange(this.#prefix);
    await this.#declare(
      session,
      `exchange ${exchange}`,
      () => declareEventsExchange(session.channel, exchange),
    );
    const body = session.toBuffer(encodeNotification(method, request.params ?? []));
    try {
      await publishConfirmed(session.channel, exchange, method, body, {
        userId: this.#userId,
        contentType: CONTENT_TYPE,
        headers: outgoingProperties({ trace: request.trace }).headers,
      });
    } catch (error) {
      throw rpcError(
        "Unavailable",
        `the broker did not accept notification ${method}: ${
          describeError(session.failure ?? error, "nack")
        }`,
      );
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#streams.failAll(rpcError("Cancelled", "the client was closed during the stream"), true);
    this.#failAll(rpcError("Cancelled", "the client was closed before the reply came"));
    await this.#link.close();
  }
}

function amqpFactory(url: URL, options: ConnectOptions): Transport {
  return new AmqpTransport(url, options as AmqpConnectOptions);
}
for (const scheme of ENTRIES["./amqp"].schemes) registerTransport(scheme, amqpFactory);
