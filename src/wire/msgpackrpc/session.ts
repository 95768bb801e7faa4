/**
 * One msgpack-rpc connection, the same on both ends: it cuts the byte stream into
 * messages, matches responses to the calls this side made, hands requests and
 * notifications to its owner, coalesces writes, caps in-flight requests, answers
 * `$/ping` and `$/cancel`, and watches the peer's heartbeat. Both directions share the
 * connection (as Neovim does), each with its own msgid space.
 *
 * @module
 */

import {
  DEFAULT_MAX_MESSAGE_BYTES,
  encodeNotification,
  encodeOutcome,
  encodeOutcomeTo,
  encodeRequest,
  type MalformedMessageError,
  type Message,
  MessageDecoder,
  type NotificationMessage,
  type RequestMessage,
  responseOutcome,
} from "./codec.ts";
import type { Outcome, TraceCarrier } from "../../core/context.ts";
import { type ErrorShape, errorShape, RpcError, rpcError, unencodable } from "../../core/errors.ts";
import type { HeartbeatPolicy } from "../../core/backoff.ts";
import { WriteQueue } from "./write_queue.ts";
import { PendingCalls } from "../../core/pending.ts";
import { CANCEL, PING } from "./reserved.ts";
import { outgoingParams } from "./plain_peer.ts";
import type { Fields } from "../../core/idl/types.ts";
import { OpenStream } from "../../core/stream/open_stream.ts";
import { collectStream } from "../../core/stream/collect.ts";
import { asRpcError } from "../../core/errors.ts";
import { SessionStreams, streamHandle, type StreamLimits } from "./streams.ts";

/**
 * The byte stream a session runs over: a socket, a TLS stream, a pipe. Runtime adapters
 * make one from their own connections (`src/adapters/deno/tcp.ts` for Deno's).
 */
export interface ByteStream {
  /** Reads into `buffer`; the number of bytes read, or null at the end of the stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; how many were written. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes the stream; a pending read then ends. */
  close(): void;
  /**
   * Sends the end of the stream while still reading (TCP's half-close), where the stream
   * can: the peer reads all this side sent before it sees the end.
   */
  closeWrite?(): Promise<void>;
  /** The other end, as `host:port`, for messages and per-peer limits. */
  readonly remote: string;
}

/** What a session hands to whoever owns it (the server listener or the client transport). */
export interface SessionOwner {
  /** A request for this side; answer it with `session.respond(msgid, outcome)`. */
  request(session: Session, message: RequestMessage, signal?: AbortSignal): void;
  /**
   * A notification for this side (`$/ping` and `$/cancel` are handled already). Return a
   * promise while it runs: the session then counts it toward `maxInFlight` and stops
   * reading while that many run, so a flood of notifications waits instead of piling up.
   */
  notification(session: Session, message: NotificationMessage): void | Promise<unknown>;
  /** The session ended; `reason` says why. */
  closed(session: Session, reason: RpcError): void;
  /**
   * The session is closing the connection because of what the peer did (lost framing, a
   * record definition it cannot be answered about, answers it does not read), before
   * `closed`: for the owner's log.
   */
  dropped?(session: Session, reason: RpcError): void;
}

/** Options of a session. */
export interface SessionOptions {
  /** Largest accepted message (default 16 MiB). */
  maxMessageBytes?: number;
  /**
   * Requests from the peer running at once; more get `Overloaded` (default 1024). As many
   * notifications may run besides; beyond that the session stops reading until one ends.
   */
  maxInFlight?: number;
  /**
   * Answer bytes not yet written to the peer above which the session reads no more of its
   * requests until they are written (default 1 MiB). Past this plus `maxMessageBytes` (the
   * answers of calls that were running meanwhile) the peer is dropped.
   */
  maxUnwrittenBytes?: number;
  /** A name for error messages (`tcp://127.0.0.1:8081`, `peer alice`). */
  label?: string;
  /** Limits on streamed results (see docs/wire.md, "Streams"). */
  streams?: StreamLimits;
}

/** Default of {@linkcode SessionOptions.maxUnwrittenBytes}. */
export const DEFAULT_MAX_UNWRITTEN_BYTES = 1024 * 1024;

interface PendingCall {
  /** `Interface.method`, naming a stream it answers. */
  method: string;
  /** The call asked for a streamed result item by item: a handle is read as one. */
  stream: boolean;
  resolve(outcome: Outcome): void;
  reject(error: RpcError): void;
  signal?: AbortSignal;
  /** Releases what the call holds (its abort listener) once it is answered. */
  settled?(): void;
}

const EMPTY: unknown[] = [];
/** Microtask hops before a write: enough for synchronous handlers' replies to be queued. */
const FLUSH_HOPS = 32;
/** First read buffer of a connection; grows ×4 while reads fill it, up to the maximum. */
const MIN_READ_BUFFER = 4 * 1024;
/** Largest read buffer of a connection. */
const MAX_READ_BUFFER = 64 * 1024;

/** A live msgpack-rpc connection. */
export class Session {
  readonly #conn: ByteStream;
  readonly #owner: SessionOwner;
  readonly #decoder: MessageDecoder;
  readonly #maxInFlight: number;
  /** Unwritten bytes that pause reading, and those that drop the peer. */
  readonly #highWater: number;
  readonly #dropAt: number;
  readonly #out = new WriteQueue();
  /** Size of the batch being written now. */
  #writing = 0;
  #flushing = false;
  #flushed?: PromiseWithResolvers<void>;
  readonly #pending = new PendingCalls<PendingCall>();
  /**
   * The peer's requests still running, by msgid (answered at once by `cutOff`), with the
   * controller that `$/cancel` aborts when the peer speaks Switchboard's extras. One map
   * for both; a plain peer's request is entered only when not answered at once.
   */
  readonly #running = new Map<number, AbortController | undefined>();
  /** Requests answered so far (tells whether a dispatch answered its request at once). */
  #answered = 0;
  /** Set by `cutOff`: later answers are dropped (their calls were answered already). */
  #cut?: ErrorShape;
  #inFlight = 0;
  /** The peer's notifications still running, and a wake-up for the paused read loop. */
  #notifying = 0;
  #notesBelow?: PromiseWithResolvers<void>;
  #lastHeard = Date.now();
  #heartbeat?: ReturnType<typeof setInterval>;
  #closing?: RpcError;
  /** Set when the peer has sent its last byte: it may still read, but answers nothing more. */
  #ended?: RpcError;
  #draining?: Promise<void>;
  #idle?: PromiseWithResolvers<void>;
  readonly #done = Promise.withResolvers<void>();
  /** Human-readable name of the other end, for errors. */
  label: string;
  /** Whether the peer speaks Switchboard's extras (deadline element, `$/cancel`). */
  extensions = false;
  /** Whatever the owner wants to keep with the session (identity, peer id, …). */
  readonly state: Record<string, unknown> = {};
  /** The streams on this connection, both ways (Switchboard peers only). */
  readonly streams: SessionStreams;

  /** Wraps a connected socket and starts reading. */
  constructor(conn: ByteStream, owner: SessionOwner, options: SessionOptions = {}) {
    this.#conn = conn;
    this.#owner = owner;
    const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#decoder = new MessageDecoder(maxMessageBytes);
    this.#maxInFlight = options.maxInFlight ?? 1024;
    this.#highWater = options.maxUnwrittenBytes ?? DEFAULT_MAX_UNWRITTEN_BYTES;
    this.#dropAt = this.#highWater + maxMessageBytes;
    this.label = options.label ?? conn.remote;
    // Items count toward what the peer left unread, and wait while it reads nothing.
    this.streams = new SessionStreams({
      send: (bytes) => {
        if (this.#closing) return;
        this.#out.push(bytes);
        this.#answerQueued();
      },
      ready: () => {
        if (this.#closing || !this.#flushing) return undefined;
        if (this.#out.size + this.#writing <= this.#highWater) return undefined;
        this.#flushed ??= Promise.withResolvers();
        return this.#flushed.promise;
      },
      label: () => this.label,
    }, options.streams);
    this.#read();
  }

  /** The peer's address (`host:port`). */
  get remote(): string {
    return this.#conn.remote;
  }

  /** Whether the session is open. */
  get open(): boolean {
    return this.#closing === undefined;
  }

  /**
   * The bytes of the request or notification being handed to the owner, as they came. Valid
   * only while the owner's `request` or `notification` runs (the read buffer is reused).
   */
  get frame(): Uint8Array {
    return this.#decoder.frame;
  }

  /** Requests from the peer still running. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves when the socket is closed and the read loop has ended. */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Calls a method on the peer. Rejects with `Unavailable` when the connection drops. */
  call(
    method: string,
    params: unknown,
    options: {
      deadline?: number;
      signal?: AbortSignal;
      trace?: TraceCarrier;
      /** A typed call's declared params (see `outgoingParams`). */
      declared?: Fields;
      /** Read a streamed result item by item (Switchboard peers; others send the array). */
      stream?: boolean;
    } = {},
  ): Promise<Outcome> {
    const gone = this.#closing ?? this.#ended;
    if (gone) return Promise.reject(gone);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortReason(method, signal));
    const { promise, resolve, reject } = Promise.withResolvers<Outcome>();
    const stream = this.extensions && options.stream === true;
    const pending: PendingCall = { method, resolve, reject, stream };
    const msgid = this.#pending.add(pending);
    // Only a peer that said hello reads the options element; a plain one gets 4 elements.
    const timeout = this.extensions && options.deadline !== undefined
      ? Math.max(1, options.deadline - Date.now())
      : undefined;
    const trace = this.extensions ? options.trace : undefined;
    let bytes: Uint8Array;
    // Stream params (a Switchboard peer reads them item by item) travel as handles.
    const streams: number[] = [];
    try {
      const out = this.extensions && options.declared
        ? this.streams.paramsOut(method, params, options.declared, streams)
        : params;
      const sent = outgoingParams(out, options.declared, !this.extensions);
      bytes = encodeRequest(msgid, method, sent, timeout, trace, stream);
    } catch (error) {
      // Params msgpack cannot carry (an invalid Date, say) fail this call alone.
      this.#pending.take(msgid);
      const shape = error instanceof RpcError
        ? error.toShape()
        : unencodable("the params", "msgpack", error);
      this.streams.cancelProduced(streams, new RpcError(shape));
      return Promise.reject(new RpcError(shape));
    }
    if (signal) {
      const onAbort = () => this.#abandon(msgid, method);
      signal.addEventListener("abort", onAbort, { once: true });
      pending.signal = signal;
      pending.settled = () => signal.removeEventListener("abort", onAbort);
    }
    this.#send(bytes);
    return promise;
  }

  /** The caller gave up: forget the call and tell the peer to stop working on it. */
  #abandon(msgid: number, method: string): void {
    const pending = this.#pending.take(msgid);
    if (!pending) return;
    pending.reject(abortReason(method, pending.signal!));
    if (this.extensions) this.#send(encodeNotification(CANCEL, [msgid]));
  }

  /** Sends a notification. */
  notify(method: string, params: unknown): void {
    if (this.#closing) throw this.#closing;
    this.#send(encodeNotification(method, params));
  }

  /** Resolves once no request of the peer is running. */
  drain(): Promise<void> {
    if (this.#inFlight === 0 || this.#closing) return Promise.resolve();
    this.#idle ??= Promise.withResolvers();
    return this.#idle.promise;
  }

  /** Answers a request of the peer. A streamed result is answered with its handle. */
  respond(msgid: number, outcome: Outcome): void {
    if (outcome.ok && outcome.value instanceof OpenStream) {
      const open = outcome.value;
      if (!this.extensions) {
        // A plain peer reads one array (the owner should have asked the router for it).
        collectStream(open).then(
          (items) => this.respond(msgid, { ok: true, value: items }),
          (error) => this.respond(msgid, { ok: false, error: asRpcError(error).toShape() }),
        );
        return;
      }
      if (this.#closing || this.#cut) {
        // Nobody will read it: stop the handler (the answer below is dropped).
        open.stop(this.#closing ?? new RpcError(this.#cut!));
        outcome = { ok: false, error: this.#cut ?? this.#closing!.toShape() };
      } else {
        outcome = this.streams.produce(open);
      }
    }
    if (--this.#inFlight === 0 && this.#idle) {
      this.#idle.resolve();
      this.#idle = undefined;
    }
    this.#answered++;
    if (this.#running.size !== 0) this.#running.delete(msgid);
    if (this.#closing || this.#cut) return;
    try {
      encodeOutcomeTo(this.#out, msgid, outcome, !this.extensions);
    } catch (error) {
      encodeOutcomeTo(this.#out, msgid, {
        ok: false,
        error: unencodable("the result", "msgpack", error),
      }, !this.extensions);
    }
    this.#answerQueued();
  }

  /**
   * Answers every request of the peer still running with `error` now (their handlers'
   * answers, when they come, are dropped), and reads no more: a server shutting down
   * tells callers instead of leaving them waiting on a closed socket.
   */
  cutOff(error: ErrorShape): void {
    if (this.#closing || this.#cut) return;
    this.#cut = error;
    // Answered now; the entries stay until the handlers finish (or the close aborts them).
    for (const msgid of this.#running.keys()) this.#refuse(msgid, error);
  }

  /** Sends an error response for a request that never reached the owner. */
  #refuse(msgid: number, error: ErrorShape): void {
    this.#out.push(encodeOutcome(msgid, { ok: false, error }, !this.extensions));
    this.#answerQueued();
  }

  /** Pings the peer every `policy.interval` ms and drops it once the policy says dead. */
  startHeartbeat(policy: HeartbeatPolicy): void {
    this.stopHeartbeat();
    this.#heartbeat = setInterval(() => {
      const silent = Date.now() - this.#lastHeard;
      if (policy.isDead(silent)) {
        this.close(
          rpcError(
            "Unavailable",
            `${this.label} missed its heartbeats (silent for ${silent} ms); connection dropped`,
          ),
        );
        return;
      }
      if (!this.#closing) this.#send(encodeNotification(PING, EMPTY));
    }, policy.interval);
  }

  /** Stops heartbeats. */
  stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #send(bytes: Uint8Array): void {
    this.#out.push(bytes);
    this.#scheduleFlush();
  }

  /**
   * An answer was queued: write it soon, unless the peer has left too many unread (this
   * side's own calls and notifications are its owner's to bound, not the peer's).
   */
  #answerQueued(): void {
    const unwritten = this.#out.size + this.#writing;
    if (unwritten > this.#dropAt) {
      this.#out.clear();
      this.#drop(
        rpcError(
          "Unavailable",
          `${this.label} does not read its answers: ${unwritten} bytes unwritten (limit ${this.#dropAt}); connection dropped`,
        ),
      );
      return;
    }
    this.#scheduleFlush();
  }

  /** Closes because of the peer's conduct, telling the owner why first. */
  #drop(reason: RpcError): void {
    if (this.#closing) return;
    this.#owner.dropped?.(this, reason);
    this.close(reason);
  }

  #scheduleFlush(): void {
    if (!this.#flushing) {
      this.#flushing = true;
      // Let the replies of this tick's requests settle first (a few microtask hops, not a
      // timer: timers cost a millisecond), then write them together.
      this.#hops = FLUSH_HOPS;
      queueMicrotask(this.#hop);
    }
  }

  #hops = 0;
  #hop = (): void => {
    if (this.#hops === 0) return; // written already (see #flushAnswered)
    if (--this.#hops > 0) queueMicrotask(this.#hop);
    else this.#flush();
  };

  /**
   * After a read's messages are handed out: when every request is answered already (the
   * usual case, synchronous handlers), nothing more can join this batch, so it is written
   * now rather than after the hops.
   */
  #flushAnswered(): void {
    if (this.#hops === 0 || this.#running.size !== 0) return;
    this.#hops = 0;
    this.#flush();
  }

  #flush = async (): Promise<void> => {
    try {
      while (this.#out.size) {
        // Valid until the next take, which comes only once this batch is written.
        const data = this.#out.take();
        this.#writing = data.byteLength;
        for (let offset = 0; offset < data.byteLength;) {
          offset += await this.#conn.write(data.subarray(offset));
        }
      }
    } catch (error) {
      this.#out.clear();
      this.close(rpcError("Unavailable", `${this.label}: write failed: ${message(error)}`));
    } finally {
      this.#writing = 0;
      this.#flushing = false;
      this.#flushed?.resolve();
      this.#flushed = undefined;
    }
  };

  async #read(): Promise<void> {
    // Idle connections are the common case: start small and grow only while reads fill
    // the buffer, so a thousand idle peers cost kilobytes each, not 64 KiB.
    let buffer = new Uint8Array(MIN_READ_BUFFER);
    let reason: RpcError | undefined;
    try {
      for (;;) {
        const n = await this.#conn.read(buffer);
        if (n === null) break;
        const chunk = buffer.subarray(0, n);
        if (n === buffer.length && buffer.length < MAX_READ_BUFFER) {
          buffer = new Uint8Array(buffer.length * 4);
        }
        this.#lastHeard = Date.now();
        this.#decoder.push(chunk);
        for (let next = this.#decoder.next(); next; next = this.#decoder.next()) {
          if (!next.ok) {
            if (this.#malformed(next.error)) continue;
            return;
          }
          this.#receive(next.message);
          if (this.#closing) return;
          // A peer that sends faster than it reads its answers waits here, message by
          // message: one read of small requests may ask for megabytes of answers.
          if (this.#out.size + this.#writing > this.#highWater && this.#flushing) {
            this.#flushed ??= Promise.withResolvers();
            await this.#flushed.promise;
            if (this.#closing) return;
          }
        }
        this.#flushAnswered();
        // Too many notifications running: read on once some have ended.
        if (this.#notifying >= this.#maxInFlight) {
          this.#notesBelow ??= Promise.withResolvers();
          await this.#notesBelow.promise;
          if (this.#closing) return;
        }
      }
      // The peer sent its last byte, and may still read (a half-closed socket: `nc -N`,
      // batch tools): what it asked for is answered before the connection closes.
      this.#draining = this.#answerThenClose(
        rpcError("Unavailable", `connection to ${this.label} closed by the peer`),
      );
    } catch (error) {
      reason = this.#closing ??
        rpcError("Unavailable", `connection to ${this.label} failed: ${message(error)}`);
    } finally {
      if (this.#draining) await this.#draining;
      else this.close(reason ?? this.#closing);
      this.#done.resolve();
    }
  }

  /** Fails the calls the peer can no longer answer, lets its requests finish, then closes. */
  async #answerThenClose(reason: RpcError): Promise<void> {
    this.#ended = reason;
    for (const [, call] of this.#pending.takeAll()) {
      call.settled?.();
      call.reject(reason);
    }
    await this.drain();
    await this.closeAfterFlush(reason);
  }

  /**
   * A bad frame: answer it if its msgid is known; drop the connection only if framing is
   * lost. A well-framed message that is no msgpack-rpc message fails alone.
   */
  #malformed(error: MalformedMessageError): boolean {
    const shape = errorShape("InvalidRequest", `Invalid Request: ${error.message}`);
    if (error.msgid !== undefined) this.#refuse(error.msgid, shape);
    if (error.fatal) {
      const reason = rpcError("InvalidRequest", `${this.label} sent ${error.message}`);
      this.#owner.dropped?.(this, reason);
      this.#draining = this.closeAfterFlush(reason);
      return false;
    }
    return true;
  }

  #receive(message: Message): void {
    switch (message.type) {
      case 0: {
        if (this.#cut) {
          this.#refuse(message.msgid, this.#cut);
          return;
        }
        if (this.#inFlight >= this.#maxInFlight) {
          this.#refuse(
            message.msgid,
            errorShape(
              "Overloaded",
              `too many requests in flight on this connection (limit ${this.#maxInFlight})`,
            ),
          );
          return;
        }
        this.#inFlight++;
        const msgid = message.msgid;
        if (this.extensions) {
          // A Switchboard peer may cancel it: its controller is found by msgid.
          const controller = new AbortController();
          this.#running.set(msgid, controller);
          this.#owner.request(this, message, controller.signal);
          return;
        }
        // A plain peer's request is entered only if it is still running once dispatched:
        // most are answered at once, and a map entry made and deleted per call is not free.
        const answered = this.#answered;
        this.#owner.request(this, message, undefined);
        if (this.#answered === answered) this.#running.set(msgid, undefined);
        return;
      }
      case 1: {
        const pending = this.#pending.take(message.msgid);
        if (!pending) return; // late answer to a call given up on
        pending.settled?.();
        const outcome = responseOutcome(message);
        const stream = outcome.ok && pending.stream ? streamHandle(outcome.value) : undefined;
        pending.resolve(
          stream === undefined
            ? outcome
            : { ok: true, value: this.streams.consume(stream, pending.method) },
        );
        return;
      }
      case 2:
        if (message.method === PING) return;
        if (
          this.streams.receiveNotification(message.method, message.params, this.frame.byteLength)
        ) return;
        if (message.method === CANCEL) {
          const msgid = Array.isArray(message.params) ? message.params[0] : undefined;
          if (typeof msgid === "number") {
            this.#running.get(msgid)?.abort(
              rpcError("Cancelled", `request ${msgid} was cancelled by the caller`),
            );
          }
          return;
        }
        {
          const running = this.#owner.notification(this, message);
          if (running) {
            this.#notifying++;
            running.then(this.#noteEnded, this.#noteEnded);
          }
        }
    }
  }

  #noteEnded = (): void => {
    if (--this.#notifying < this.#maxInFlight && this.#notesBelow) {
      this.#notesBelow.resolve();
      this.#notesBelow = undefined;
    }
  };

  /** Sends what is queued (waiting at most `graceMs` for a peer that does not read), then closes. */
  async closeAfterFlush(reason: RpcError, graceMs = 5000): Promise<void> {
    if (this.#closing) return;
    if (this.#flushing) {
      this.#flushed ??= Promise.withResolvers();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.#flushed.promise,
        new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs)),
      ]);
      clearTimeout(timer);
    }
    this.close(reason);
  }

  /**
   * Ends the connection the way that loses nothing this side sent (a `$/stream.cancel`
   * above all): writes what is queued, sends the end of the stream and reads on until the
   * peer closes too (at most `graceMs`), then closes. A socket closed with bytes unread
   * resets instead, and the reset may reach the peer before what was written last.
   */
  async closeGracefully(reason: RpcError, graceMs = 5000): Promise<void> {
    if (this.#closing) return;
    const until = Date.now() + graceMs;
    if (this.#flushing) {
      this.#flushed ??= Promise.withResolvers();
      await this.#within(this.#flushed.promise, graceMs);
    }
    if (!this.#closing && this.#conn.closeWrite) {
      this.#ended ??= reason; // nothing more is sent: new calls fail at once
      const ended = await this.#conn.closeWrite().then(() => true, () => false);
      if (ended) await this.#within(this.#done.promise, until - Date.now());
    }
    this.close(reason);
  }

  async #within(promise: Promise<unknown>, ms: number): Promise<void> {
    if (ms <= 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([promise, new Promise<void>((resolve) => timer = setTimeout(resolve, ms))]);
    clearTimeout(timer);
  }

  /** Closes the connection now; pending calls fail with `reason`. */
  close(reason: RpcError = rpcError("Unavailable", `connection to ${this.label} closed`)): void {
    if (this.#closing) return;
    this.#closing = reason;
    this.stopHeartbeat();
    this.#idle?.resolve();
    this.#notesBelow?.resolve();
    this.#flushed?.resolve();
    this.streams.close(reason);
    for (const controller of this.#running.values()) controller?.abort(reason);
    this.#running.clear();
    for (const [, call] of this.#pending.takeAll()) {
      call.settled?.();
      call.reject(reason);
    }
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#owner.closed(this, reason);
  }
}

function abortReason(method: string, signal: AbortSignal): RpcError {
  return signal.reason instanceof RpcError
    ? signal.reason
    : rpcError("Cancelled", `${method} was cancelled`);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
