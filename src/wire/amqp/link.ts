/**
 * One reconnecting AMQP connection with its one channel, what both AMQP ends hold (the worker
 * and the client transport): it connects (loading amqplib on first use), opens the channel,
 * lets its owner set the channel up (declare, consume), notices the loss of the connection or
 * the channel, and closes. A loss is reported once per connection and never after `close()`.
 * How an end comes back follows the one {@linkcode RECONNECT} policy: a worker heals in the
 * background until closed (it must get back to its queues); a client reconnects when a call
 * needs it, within the call's deadline ({@linkcode AmqpLink.openBy}).
 *
 * @module
 */

import { exponentialBackoff, type ReconnectPolicy } from "../../core/backoff.ts";
import { sleep } from "../../core/abort.ts";
import {
  type AmqpChannel,
  type AmqpConnection,
  type AmqpLibrary,
  describeError,
  loadAmqp,
} from "./amqplib.ts";

/**
 * How long every AMQP end waits before connection attempt `n`: 100 ms doubling to 2 s, with
 * equal jitter. The cap bounds how long a worker stays off its queues, and a waiting call
 * unsent, once a restarted broker is back; the jitter keeps a crowd of ends from reconnecting
 * in lockstep.
 */
export const RECONNECT: ReconnectPolicy = exponentialBackoff({ initial: 100, max: 2_000 });

/** A live connection, its channel and what the owner set up on it. */
export interface AmqpSession<S> {
  /** The connection. */
  readonly connection: AmqpConnection;
  /** Its one channel. */
  readonly channel: AmqpChannel;
  /** Wraps bytes as the Node Buffer amqplib requires, without copying. */
  readonly toBuffer: (bytes: Uint8Array) => Uint8Array;
  /** Why the broker closed the channel, once it has (e.g. PRECONDITION_FAILED). */
  readonly failure?: unknown;
  /** What the owner's `setup` returned for this connection. */
  readonly state: S;
  /** Set while amqplib's write buffer is full; resolves on "drain" (or close). */
  readonly full?: Promise<void>;
  /** Runs `declare` once per connection under `key`, and again after it failed. */
  declareOnce(key: string, declare: () => Promise<void>): Promise<void>;
  /**
   * Publishes (as `AmqpChannel.publish`); when the write buffer fills, sets `full`, so a
   * burst waits for the socket instead of growing memory unbounded.
   */
  publish(...message: Parameters<AmqpChannel["publish"]>): void;
}

class Session<S> implements AmqpSession<S> {
  failure?: unknown;
  full?: Promise<void>;
  readonly #declared = new Map<string, Promise<void>>();

  constructor(
    readonly connection: AmqpConnection,
    readonly channel: AmqpChannel,
    readonly toBuffer: (bytes: Uint8Array) => Uint8Array,
    readonly state: S,
  ) {}

  declareOnce(key: string, declare: () => Promise<void>): Promise<void> {
    let done = this.#declared.get(key);
    if (!done) {
      done = declare();
      this.#declared.set(key, done);
      done.catch(() => this.#declared.delete(key));
    }
    return done;
  }

  publish(...message: Parameters<AmqpChannel["publish"]>): void {
    if (this.channel.publish(...message)) return;
    this.full ??= new Promise<void>((resolve) => {
      const go = () => {
        this.full = undefined;
        resolve();
      };
      this.channel.once("drain", go);
      this.channel.once("close", go);
    });
  }
}

/** Options of an {@linkcode AmqpLink}. */
export interface AmqpLinkOptions<S> {
  /** The broker, credentials included. */
  url: string | URL;
  /** Opens the channel in confirm mode, so the broker acknowledges each publish. */
  confirm?: boolean;
  /**
   * Sets a fresh channel up (deliveries may come before it returns); a rejection closes the
   * connection and fails the attempt.
   */
  setup(channel: AmqpChannel, lib: AmqpLibrary): Promise<S>;
  /** Reconnects in the background after a loss, until closed (default: the next `open`). */
  heal?: boolean;
  /** The live connection was lost, `reason` says why. */
  onLost?(reason: string): void;
  /** A background reconnection succeeded. */
  onReconnected?(): void;
  /** A background reconnection failed; another follows. */
  onRetryFailed?(error: unknown): void;
}

/**
 * A connection to a broker that can be opened again after it is lost.
 *
 * @example
 * ```ts ignore
 * import { AmqpLink } from "./link.ts";
 *
 * const link = new AmqpLink({
 *   url: "amqp://127.0.0.1",
 *   setup: (channel) => channel.assertQueue("jobs", { durable: true }),
 *   heal: true,
 *   onLost: (reason) => console.warn(`lost the broker (${reason}); reconnecting`),
 * });
 * const { channel } = await link.open();
 * // … later
 * await link.close();
 * ```
 */
export class AmqpLink<S> {
  readonly #href: string;
  readonly #options: AmqpLinkOptions<S>;
  #live?: AmqpSession<S>;
  #attempt?: Promise<AmqpSession<S>>;
  #timer?: ReturnType<typeof setTimeout>;
  #closed = false;

  /** Connects nothing yet: see {@linkcode AmqpLink.open}. */
  constructor(options: AmqpLinkOptions<S>) {
    this.#href = new URL(options.url).href;
    this.#options = options;
  }

  /** The live session, if connected right now. */
  get current(): AmqpSession<S> | undefined {
    return this.#live;
  }

  /** The live session, or one connection attempt (shared by everyone asking meanwhile). */
  open(): Promise<AmqpSession<S>> {
    if (this.#closed) return Promise.reject(new Error("the connection is closed"));
    if (this.#live) return Promise.resolve(this.#live);
    this.#attempt ??= this.#connect().finally(() => this.#attempt = undefined);
    return this.#attempt;
  }

  /**
   * The live session, connecting as needed: while the broker cannot be reached (it is
   * restarting, say), tries again with backoff until `until` (epoch ms). It gives up with the
   * last attempt's error when the next try would come too late, so the caller learns that the
   * broker is unreachable rather than only that time ran out, and when `signal` aborts.
   */
  async openBy(until: number, signal?: AbortSignal): Promise<AmqpSession<S>> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.open();
      } catch (error) {
        const pause = RECONNECT.delay(attempt);
        if (this.#closed || Date.now() + pause >= until) throw error;
        await sleep(pause, signal);
        if (signal?.aborted) throw error;
      }
    }
  }

  async #connect(): Promise<AmqpSession<S>> {
    const lib = await loadAmqp();
    const connection = await lib.connect(this.#href);
    // Unheard "error" events would throw; "close" follows them and carries the news.
    connection.on("error", () => {});
    let lostWhy: string | undefined;
    let session: Session<S> | undefined;
    const lose = (why: string) => {
      if (lostWhy !== undefined) return;
      lostWhy = why;
      connection.close().catch(() => {});
      // While still starting, the attempt itself fails (below).
      if (session === undefined || this.#live !== session) return;
      this.#live = undefined;
      if (this.#closed) return;
      this.#options.onLost?.(why);
      if (this.#options.heal) this.#heal(1);
    };
    connection.on("close", (error?: unknown) => lose(describeError(error, "closed")));
    try {
      const channel = this.#options.confirm
        ? await connection.createConfirmChannel()
        : await connection.createChannel();
      // amqplib emits the broker's reason as "error" just before "close".
      let failure: unknown;
      channel.on("error", (error: unknown) => {
        failure = error;
        if (session) session.failure = error;
      });
      channel.on("close", () => lose(describeError(failure, "channel closed")));
      const state = await this.#options.setup(channel, lib);
      if (this.#closed) throw new Error("closed while connecting");
      if (lostWhy !== undefined) {
        throw new Error(`the connection closed while starting (${lostWhy})`);
      }
      session = new Session(connection, channel, lib.toBuffer, state);
      this.#live = session;
      return session;
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  /** Attempt `attempt` to get back, after its pause; the next one follows a failure. */
  #heal(attempt: number): void {
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      if (this.#closed) return;
      try {
        await this.open();
        this.#options.onReconnected?.();
      } catch (error) {
        if (this.#closed) return;
        this.#options.onRetryFailed?.(error);
        this.#heal(attempt + 1);
      }
    }, RECONNECT.delay(attempt));
  }

  /**
   * Stops reconnecting, lets `drain` finish with the live session (if any: cancel consumers,
   * let calls in hand finish), then closes the channel and the connection.
   */
  async close(drain?: (session: AmqpSession<S> | undefined) => Promise<void>): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    // An attempt under way sees #closed once set up, closes its connection and fails.
    await this.#attempt?.catch(() => {});
    await drain?.(this.#live);
    const session = this.#live;
    this.#live = undefined;
    await session?.channel.close().catch(() => {});
    await session?.connection.close().catch(() => {});
  }
}
