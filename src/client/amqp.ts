/**
 * msgpack-rpc over AMQP 0-9-1 (RabbitMQ), client side, and the conventions both sides share.
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
 * never load it.
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
import { RpcError, rpcError } from "../core/errors.ts";
import { type ConnectOptions, registerTransport } from "./connect.ts";
import type { OutgoingCall, Transport } from "../core/client/transport.ts";
import { PendingCalls } from "../core/pending.ts";
import { exponentialBackoff } from "../core/backoff.ts";
import {
  callQueue,
  CONTENT_TYPE,
  DEADLINE_HEADER,
  declareCallQueue,
  declareEventsExchange,
  DEFAULT_PREFIX,
  DIRECT_REPLY_TO,
  eventsExchange,
  interfaceOf,
  putTrace,
} from "../wire/amqp/conventions.ts";
import {
  type AmqpChannel,
  type AmqpConnection,
  type AmqpMessage,
  loadAmqp,
  publishConfirmed,
  redact,
} from "../wire/amqp/amqplib.ts";

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
}

/** Default wait for an unreachable broker, for calls without a deadline. */
const DEFAULT_CONNECT_WAIT_MS = 10_000;
/** Pauses between connection attempts while calls wait: 100 ms doubling to 2 s. */
const RECONNECT = exponentialBackoff({ initial: 100, max: 2_000 });

interface Pending {
  resolve(outcome: Outcome): void;
  reject(error: RpcError): void;
}

interface Session {
  connection: AmqpConnection;
  channel: AmqpChannel;
  toBuffer(bytes: Uint8Array): Uint8Array;
  declared: Map<string, Promise<void>>;
  /** Why the broker closed the channel, once it has (e.g. PRECONDITION_FAILED). */
  failure?: unknown;
  /** Set while amqplib's write buffer is full; resolves on "drain" (or close). */
  full?: Promise<void>;
}

/**
 * Calls over RabbitMQ: `connect("amqp://user:pass@host/vhost")`. Connects on the first call
 * and again after the connection is lost (calls in flight then fail as `Unavailable`: they may
 * or may not have run). Calls made while the broker cannot be reached wait for it, within
 * their deadline and `connectWait` (10 s by default).
 *
 * @example
 * ```ts ignore
 * import { connect } from "@switchboard/rpc";
 *
 * const client = connect("amqp://127.0.0.1");
 * console.log(await client.call("Calculator.add", { a: 1, b: 2 }, { timeout: 5000 }));
 * await client.close();
 * ```
 */
export class AmqpTransport implements Transport {
  readonly #url: string;
  readonly #shown: string;
  readonly #prefix: string;
  readonly #defaultInterface?: string;
  readonly #userId?: string;
  readonly #connectWait: number;
  readonly #clientId = crypto.randomUUID();
  readonly #pending = new PendingCalls<Pending>();
  #session?: Promise<Session>;
  /** Bumped per connection attempt, so a stale connection's events change nothing. */
  #generation = 0;
  #closed = false;
  #ignoredReplies = 0;

  /** `url` is the broker, e.g. `amqp://guest:guest@127.0.0.1:5672/`. */
  constructor(url: string | URL, options: AmqpConnectOptions = {}) {
    const parsed = new URL(url);
    this.#url = parsed.href;
    this.#shown = redact(parsed);
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#defaultInterface = options.defaultInterface;
    // amqplib logs in as guest when the URL names no user; the broker checks user-id.
    const userId = options.userId ?? (decodeURIComponent(parsed.username) || "guest");
    if (userId !== false) this.#userId = userId;
    this.#connectWait = options.connectWait ?? DEFAULT_CONNECT_WAIT_MS;
  }

  /** Replies that arrived for no waiting call (duplicates after redelivery, or too late). */
  get ignoredReplies(): number {
    return this.#ignoredReplies;
  }

  /** Calls waiting for their reply. */
  get pending(): number {
    return this.#pending.size;
  }

  #open(): Promise<Session> {
    if (this.#closed) return Promise.reject(rpcError("Unavailable", "the client is closed"));
    this.#session ??= this.#connect(++this.#generation);
    return this.#session;
  }

  /**
   * A connection for a call: while the broker cannot be reached (it is restarting, say),
   * tries again with backoff until the call's deadline or `connectWait` instead of failing
   * at once. It gives up when the next try would come too late, so the caller learns that
   * the broker is unreachable rather than only that time ran out; an aborted call stops.
   */
  async #openFor(request: OutgoingCall): Promise<Session> {
    const until = Math.min(request.deadline ?? Infinity, Date.now() + this.#connectWait);
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#open();
      } catch (error) {
        const pause = RECONNECT.delay(attempt);
        if (this.#closed || Date.now() + pause >= until) throw error;
        await sleep(pause, request.signal);
        if (request.signal?.aborted) throw abortReason(request.method, request.signal);
      }
    }
  }

  async #connect(generation: number): Promise<Session> {
    const current = () => this.#generation === generation && !this.#closed;
    try {
      const lib = await loadAmqp();
      const connection = await lib.connect(this.#url);
      connection.on("error", () => {}); // unheard errors would throw; "close" carries the news
      let channel: AmqpChannel;
      try {
        channel = await connection.createConfirmChannel();
      } catch (error) {
        await connection.close().catch(() => {});
        throw error;
      }
      const session: Session = { connection, channel, toBuffer: lib.toBuffer, declared: new Map() };
      const lost = (reason: string) => {
        if (!current()) return;
        this.#generation++;
        this.#session = undefined;
        this.#failAll(rpcError(
          "Unavailable",
          `lost the connection to ${this.#shown} (${reason}); the call may or may not have run`,
        ));
        connection.close().catch(() => {});
      };
      connection.on("close", (error?: unknown) => lost(describeError(error, "closed")));
      // amqplib emits the broker's reason as "error" just before "close".
      channel.on("error", (error: unknown) => session.failure = error);
      channel.on("close", () => lost(describeError(session.failure, "channel closed")));
      channel.on("return", (message: AmqpMessage) => this.#onReturn(message));
      try {
        await channel.consume(DIRECT_REPLY_TO, (m) => this.#onReply(m), { noAck: true });
      } catch (error) {
        await connection.close().catch(() => {});
        throw error;
      }
      return session;
    } catch (error) {
      if (current()) this.#session = undefined;
      throw rpcError(
        "Unavailable",
        `cannot reach the broker at ${this.#shown}: ${describeError(error, "refused")}`,
      );
    }
  }

  /** Declares a queue or exchange once per connection (again after a failure). */
  async #declare(session: Session, key: string, declare: () => Promise<void>): Promise<void> {
    let done = session.declared.get(key);
    if (!done) {
      done = declare();
      session.declared.set(key, done);
      done.catch(() => session.declared.delete(key));
    }
    try {
      await done;
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
    const pending = decoded.type === 1 ? this.#pending.take(decoded.msgid) : undefined;
    if (!pending || decoded.type !== 1) {
      this.#ignoredReplies++;
      return;
    }
    pending.resolve(responseOutcome(decoded));
  }

  #onReturn(message: AmqpMessage): void {
    const msgid = Number(message.properties.correlationId);
    const pending = this.#pending.take(msgid);
    if (!pending) return;
    pending.reject(rpcError(
      "Unavailable",
      `the broker could not route the call to queue ${message.fields.routingKey}`,
    ));
  }

  #failAll(error: RpcError): void {
    for (const [, pending] of this.#pending.takeAll()) pending.reject(error);
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
    const headers: Record<string, unknown> = {};
    let expiration: string | undefined;
    if (request.deadline !== undefined) {
      const remaining = Math.ceil(request.deadline - Date.now());
      if (remaining <= 0) {
        throw rpcError("Timeout", `${request.method} timed out before it was sent`);
      }
      expiration = String(remaining);
      headers[DEADLINE_HEADER] = request.deadline;
    }
    if (request.trace) putTrace(headers, request.trace);
    if (request.signal?.aborted) throw abortReason(request.method, request.signal);
    return await new Promise<Outcome>((resolve, reject) => {
      const signal = request.signal;
      let msgid = 0;
      const onAbort = () => {
        if (this.#pending.take(msgid)) reject(abortReason(request.method, signal!));
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
      });
      const body = session.toBuffer(encodeRequest(msgid, request.method, request.params ?? []));
      const fail = (error: unknown) => {
        const pending = this.#pending.take(msgid);
        if (!pending) return;
        pending.reject(rpcError(
          "Unavailable",
          `the broker did not accept ${request.method}: ${describeError(error, "nack")}`,
        ));
      };
      try {
        const room = session.channel.publish("", queue, body, {
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
        if (!room) this.#full(session);
      } catch (error) {
        fail(error);
      }
    });
  }

  /** Holds further publishes until the socket drains, so a burst cannot grow memory unbounded. */
  #full(session: Session): void {
    session.full ??= new Promise<void>((resolve) => {
      const go = () => {
        session.full = undefined;
        resolve();
      };
      session.channel.once("drain", go);
      session.channel.once("close", go);
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
      const headers: Record<string, unknown> = {};
      if (request.trace) putTrace(headers, request.trace);
      await publishConfirmed(session.channel, exchange, method, body, {
        userId: this.#userId,
        contentType: CONTENT_TYPE,
        headers,
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
    const session = this.#session;
    this.#session = undefined;
    this.#failAll(rpcError("Cancelled", "the client was closed before the reply came"));
    if (!session) return;
    const open = await session.catch(() => undefined);
    if (!open) return;
    await open.channel.close().catch(() => {});
    await open.connection.close().catch(() => {});
  }
}

function abortReason(method: string, signal: AbortSignal): RpcError {
  return signal.reason instanceof RpcError
    ? signal.reason
    : rpcError("Cancelled", `${method} was cancelled`);
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function describeError(error: unknown, fallback: string): string {
  if (error instanceof Error) return error.message;
  return error === undefined || error === null ? fallback : String(error);
}

function amqpFactory(url: URL, options: ConnectOptions): Transport {
  return new AmqpTransport(url, options as AmqpConnectOptions);
}
registerTransport("amqp:", amqpFactory);
registerTransport("amqps:", amqpFactory);
