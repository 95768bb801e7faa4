/**
 * One JSON-RPC 2.0 peer connection over a message channel (a WebSocket: the WHATWG
 * interface only, so it runs in browsers, Node and Deno alike), the same on both ends. Each
 * text message is one JSON-RPC message or batch; both sides call, notify and answer over the
 * one socket, each with its own id space. The session matches answers to the calls it made,
 * hands requests and notifications to its owner, caps requests in flight and message size,
 * answers `$/cancel`, sends and watches `$/ping` heartbeats, and carries streams between
 * Switchboard ends (`$/stream.*`, the shared stream table). Other reserved `$/…`
 * notifications reach the owner untouched (publish–subscribe).
 *
 * @module
 */

import type { Outcome, TraceCarrier } from "../../core/context.ts";
import {
  asRpcError,
  type ErrorShape,
  errorShape,
  receivedError,
  RpcError,
  rpcError,
} from "../../core/errors.ts";
import type { Fields } from "../../core/idl/types.ts";
import { reviveTagged } from "../../core/idl/tagged.ts";
import { OpenStream } from "../../core/stream/open_stream.ts";
import { collectStream } from "../../core/stream/collect.ts";
import { streamHandle, type StreamLimits, StreamTable } from "../../core/stream/table.ts";
import {
  isStreamNotification,
  streamMessageOf,
  streamNotification,
} from "../stream_notifications.ts";
import type { HeartbeatPolicy } from "../../core/backoff.ts";
import { PendingCalls } from "../../core/pending.ts";
import {
  decodeResponse,
  encodeError,
  encodeRequest,
  encodeResponse,
  type JsonRpcId,
  type JsonRpcMember,
  parseError,
  parseRequestValue,
} from "./codec.ts";
import { parseJsonText } from "./json_text.ts";
import { runBatch } from "./batch.ts";
import { DEFAULT_MAX_RESPONSE_BYTES } from "../batch_limits.ts";

/** Reserved notification: a heartbeat (any received message counts as one too). */
export const PING = "$/ping";
/** Reserved notification `[id]`: the caller gave up on its request `id`. */
export const CANCEL = "$/cancel";

/** The part of the WHATWG `WebSocket` a session uses. */
export interface MessageSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  readonly readyState: number;
  readonly bufferedAmount: number;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: "close",
    listener: (event: { code: number; reason: string }) => void,
  ): void;
  addEventListener(type: "error", listener: (event: unknown) => void): void;
}

/** A request of the peer, as handed to the owner. */
export interface PeerRequest {
  id: JsonRpcId;
  method: string;
  params?: unknown;
  /**
   * A Switchboard peer asked for the result item by item (`"stream": true` beside the
   * request's `id`): a streamed result may be answered with an `OpenStream`.
   */
  stream?: boolean;
}

/** What a session hands to whoever owns it (the server listener or the client transport). */
export interface PeerSessionOwner {
  /**
   * A request for this side: its outcome. `signal` (given once the peer said `$/hello`, see
   * `extensions`) aborts on `$/cancel` or close.
   */
  request(
    session: PeerSession,
    request: PeerRequest,
    signal: AbortSignal | undefined,
  ): Outcome | Promise<Outcome>;
  /** A notification (`$/ping` and `$/cancel` are handled already); a promise while it runs. */
  notification(session: PeerSession, method: string, params: unknown): void | Promise<unknown>;
  /** The session ended; `reason` says why. */
  closed(session: PeerSession, reason: RpcError): void;
}

/** Limits of a session. */
export interface PeerSessionOptions {
  /** Largest accepted message in bytes (default 16 MiB); larger ones close the socket. */
  maxMessageBytes?: number;
  /**
   * Requests from the peer running at once (default 1024); more get `Overloaded`. As many
   * notifications may run besides; more are dropped.
   */
  maxInFlight?: number;
  /** Members of one batch (default 1000). */
  maxBatch?: number;
  /** Bytes queued unsent on the socket beyond which the peer is dropped (default 16 MiB). */
  maxUnsentBytes?: number;
  /** A name for error messages. */
  label?: string;
  /** The peer's address (`host:port`). */
  remote?: string;
  /** Limits on the streams of the connection (see docs/wire.md, "Streams"). */
  streams?: StreamLimits;
  /**
   * Bytes queued unsent on the socket beyond which stream producers wait at their next
   * item (default 1 MiB), however much credit the peer granted.
   */
  streamHighWater?: number;
}

/** Default of {@linkcode PeerSessionOptions.maxMessageBytes}. */
export const DEFAULT_MAX_WS_MESSAGE_BYTES = 16 * 1024 * 1024;

/** WebSocket close codes (RFC 6455 §7.4.1). */
const CLOSE_NORMAL = 1000, CLOSE_UNSUPPORTED = 1003, CLOSE_POLICY = 1008, CLOSE_TOO_BIG = 1009;
const OPEN = 1;

interface Pending {
  /** `Interface.method`, naming a stream it answers. */
  method?: string;
  /** The call asked for its result item by item: a handle is read as one. */
  stream?: boolean;
  resolve(outcome: Outcome): void;
  reject(error: RpcError): void;
  signal?: AbortSignal;
  settled?(): void;
}

const encoder = new TextEncoder();

/** A live JSON-RPC peer connection. */
export class PeerSession {
  readonly #socket: MessageSocket;
  readonly #owner: PeerSessionOwner;
  readonly #maxBytes: number;
  readonly #maxInFlight: number;
  readonly #maxBatch: number;
  readonly #maxUnsent: number;
  readonly #pending = new PendingCalls<Pending>();
  /** The peer's requests running, by id, with the controller `$/cancel` aborts. */
  readonly #running = new Map<JsonRpcId, AbortController>();
  #inFlight = 0;
  #idle?: { promise: Promise<void>; resolve: (value: void) => void };
  /** The peer's notifications still running (at most `maxInFlight`). */
  #notifying = 0;
  #lastHeard = Date.now();
  #heartbeat?: ReturnType<typeof setInterval>;
  #closing?: RpcError;
  readonly #done = deferred<void>();
  /** Resolves on the socket's own `close` event (what was sent before it has gone out). */
  readonly #socketClosed = deferred<void>();
  /** The peer's address. */
  readonly remote: string;
  /** Human-readable name of the other end, for errors. */
  label: string;
  /** Whether the peer speaks Switchboard's extras (said `$/hello`): `$/cancel`. */
  extensions = false;
  /** Whatever the owner keeps with the session (identity, peer id, …). */
  readonly state: Record<string, unknown> = {};
  /** The streams on this connection, both ways (Switchboard peers only). */
  readonly streams: StreamTable<string>;
  readonly #streamHighWater: number;
  /** Resolves once the socket's unsent bytes are below the high water mark. */
  #drained?: Promise<void>;
  /** Bytes of the message being handled (what a stream item is measured by). */
  #messageBytes = 0;

  /** Takes an open socket (or one opening) and starts listening to it. */
  constructor(socket: MessageSocket, owner: PeerSessionOwner, options: PeerSessionOptions = {}) {
    this.#socket = socket;
    this.#owner = owner;
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_WS_MESSAGE_BYTES;
    this.#maxInFlight = options.maxInFlight ?? 1024;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#maxUnsent = options.maxUnsentBytes ?? 16 * 1024 * 1024;
    this.remote = options.remote ?? "unknown";
    this.label = options.label ?? this.remote;
    this.#streamHighWater = options.streamHighWater ?? 1024 * 1024;
    this.streams = new StreamTable<string>({
      encode: (message) => {
        const { method, map } = streamNotification(message);
        return encodeRequest(method, map);
      },
      bytes: utf8Length,
      write: (text) => this.#send(text),
      ready: () => this.#streamReady(),
      label: () => this.label,
      format: "JSON",
      readItem: reviveTagged,
    }, options.streams);
    socket.addEventListener("message", (event) => this.#message(event.data));
    socket.addEventListener("close", (event) => {
      this.#socketClosed.resolve();
      this.#ended(
        rpcError(
          "Unavailable",
          `connection to ${this.label} closed (${event.code}${
            event.reason ? ` ${event.reason}` : ""
          })`,
        ),
      );
    });
    socket.addEventListener("error", () => {}); // a close event follows
  }

  /** Whether the session is open. */
  get open(): boolean {
    return this.#closing === undefined;
  }

  /** Requests of the peer still running. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves once the session has ended (closed by either side, or the socket gone). */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Resolves once the socket itself has closed (after `close()`: its close handshake). */
  get socketClosed(): Promise<void> {
    return this.#socketClosed.promise;
  }

  /** Calls a method on the peer. Rejects with `Unavailable` when the connection drops. */
  call(
    method: string,
    params: unknown,
    options: {
      deadline?: number;
      signal?: AbortSignal;
      trace?: TraceCarrier;
      /** A typed call's declared params: its live `t.stream` params travel as streams. */
      declared?: Fields;
      /** Read a streamed result item by item (Switchboard peers; others send the array). */
      stream?: boolean;
    } = {},
  ): Promise<Outcome> {
    if (this.#closing) return Promise.reject(this.#closing);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortReason(method, signal));
    const { promise, resolve, reject } = deferred<Outcome>();
    const stream = this.extensions && options.stream === true;
    const pending: Pending = { method, stream, resolve, reject };
    const id = this.#pending.add(pending);
    let text: string;
    // Stream params (a Switchboard peer reads them item by item) travel as handles.
    const opened: number[] = [];
    try {
      const sent = this.extensions && options.declared
        ? this.streams.paramsOut(method, params, options.declared, opened)
        : params;
      text = encodeRequest(method, sent, id);
      // The request member that asks for a stream, beside `id` (params stay the method's).
      if (stream) text = `${text.slice(0, -1)},"stream":true}`;
    } catch (error) {
      this.#pending.take(id);
      const failure = error instanceof RpcError
        ? error
        : rpcError("InvalidParams", `the params cannot travel as JSON: ${messageOf(error)}`);
      this.streams.cancelProduced(opened, failure);
      return Promise.reject(failure);
    }
    if (signal) {
      const onAbort = () => {
        const call = this.#pending.take(id);
        if (!call) return;
        call.reject(abortReason(method, signal));
        this.#send(encodeRequest(CANCEL, [id]));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      pending.signal = signal;
      pending.settled = () => signal.removeEventListener("abort", onAbort);
    }
    this.#send(text);
    return promise;
  }

  /**
   * Sends calls (and notifications) as one JSON-RPC batch; each outcome in order (a
   * notification's is `{ ok: true }` once sent).
   */
  batch(calls: { method: string; params?: unknown; notification?: boolean }[]): Promise<Outcome[]> {
    if (this.#closing) return Promise.reject(this.#closing);
    const texts: string[] = [];
    const outcomes: Promise<Outcome>[] = [];
    try {
      for (const call of calls) {
        if (call.notification) {
          texts.push(encodeRequest(call.method, call.params));
          outcomes.push(Promise.resolve({ ok: true, value: undefined }));
          continue;
        }
        const { promise, resolve, reject } = deferred<Outcome>();
        const id = this.#pending.add({ resolve, reject });
        texts.push(encodeRequest(call.method, call.params, id));
        outcomes.push(promise);
      }
    } catch (error) {
      return Promise.reject(
        rpcError("InvalidParams", `the params cannot travel as JSON: ${messageOf(error)}`),
      );
    }
    this.#send(`[${texts.join(",")}]`);
    return Promise.all(outcomes);
  }

  /** Sends a notification (any method, reserved `$/…` ones included). */
  notify(method: string, params: unknown): void {
    if (this.#closing) throw this.#closing;
    this.#send(encodeRequest(method, params));
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
          CLOSE_POLICY,
        );
        return;
      }
      if (!this.#closing) this.#send(encodeRequest(PING, []));
    }, policy.interval);
  }

  /** Stops heartbeats. */
  stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** Resolves once no request of the peer is running (or the session closed). */
  drain(): Promise<void> {
    if (this.#inFlight === 0 || this.#closing) return Promise.resolve();
    this.#idle ??= deferred<void>();
    return this.#idle.promise;
  }

  #wakeIdle(): void {
    this.#idle?.resolve();
    this.#idle = undefined;
  }

  /** Closes the connection; pending calls fail with `reason`. */
  close(
    reason: RpcError = rpcError("Unavailable", `connection to ${this.label} closed`),
    code = CLOSE_NORMAL,
  ): void {
    if (this.#closing) return;
    try {
      // The close reason is capped at 123 bytes by the protocol.
      this.#socket.close(code, truncate(reason.message, 120));
    } catch {
      // closed already
    }
    this.#ended(reason);
  }

  #ended(reason: RpcError): void {
    if (this.#closing) return;
    this.#closing = reason;
    this.stopHeartbeat();
    this.#wakeIdle();
    this.streams.close(reason);
    for (const controller of this.#running.values()) controller.abort(reason);
    this.#running.clear();
    for (const [, call] of this.#pending.takeAll()) {
      call.settled?.();
      call.reject(reason);
    }
    this.#owner.closed(this, reason);
    this.#done.resolve();
  }

  /** Undefined while the socket takes more, else a promise of when it has sent enough. */
  #streamReady(): Promise<void> | undefined {
    if (this.#closing || this.#socket.bufferedAmount <= this.#streamHighWater) return undefined;
    // The WHATWG socket tells no one when it drains: its count is read until it has.
    return this.#drained ??= new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (this.#closing || this.#socket.bufferedAmount <= this.#streamHighWater) {
          clearInterval(timer);
          this.#drained = undefined;
          resolve();
        }
      }, DRAIN_POLL_MS);
    });
  }

  #send(text: string): void {
    if (this.#closing || this.#socket.readyState !== OPEN) return;
    if (this.#socket.bufferedAmount > this.#maxUnsent) {
      this.close(
        rpcError(
          "Unavailable",
          `${this.label} does not read its messages (${this.#socket.bufferedAmount} bytes unsent); connection dropped`,
        ),
        CLOSE_POLICY,
      );
      return;
    }
    this.#socket.send(text);
  }

  #message(data: unknown): void {
    if (this.#closing) return;
    this.#lastHeard = Date.now();
    if (typeof data !== "string") {
      this.#refuseAndClose("binary messages are not JSON-RPC: send text", CLOSE_UNSUPPORTED);
      return;
    }
    // Three bytes per UTF-16 unit at most: only a long text needs counting.
    this.#messageBytes = data.length;
    if (
      data.length * 3 > this.#maxBytes &&
      (this.#messageBytes = encoder.encode(data).byteLength) > this.#maxBytes
    ) {
      this.#refuseAndClose(
        `message exceeds the limit of ${this.#maxBytes} bytes`,
        CLOSE_TOO_BIG,
      );
      return;
    }
    let value: unknown;
    try {
      value = parseJsonText(data);
    } catch (error) {
      this.#send(encodeError(null, parseError(messageOf(error))));
      return;
    }
    if (Array.isArray(value) && value.length > 0 && value.every(isResponse)) {
      for (const one of value) this.#response(one);
      return;
    }
    if (isResponse(value)) {
      this.#response(value);
      return;
    }
    const request = parseRequestValue(value, this.#maxBatch);
    switch (request.kind) {
      case "error":
        this.#send(encodeError(null, request.error));
        return;
      case "single": {
        // Only a lone request may ask for a stream (a batch's streamed results are arrays).
        const asked = (value as { stream?: unknown }).stream === true;
        const reply = this.#member(request.member, asked);
        if (reply instanceof Promise) reply.then((text) => text !== null && this.#send(text));
        else if (reply !== null) this.#send(reply);
        return;
      }
      case "batch":
        runBatch(
          request.members,
          (member) => this.#member(member),
          DEFAULT_MAX_RESPONSE_BYTES,
          (error) => encodeError(null, error),
        ).then((text) => text !== null && this.#send(text));
    }
  }

  /** An error the peer can read, then the socket closed with `code`. */
  #refuseAndClose(detail: string, code: number): void {
    this.#send(encodeError(null, errorShape("InvalidRequest", `Invalid Request: ${detail}`)));
    this.close(rpcError("InvalidRequest", `${this.label} sent ${detail}`), code);
  }

  #response(value: unknown): void {
    const decoded = decodeResponse(value);
    if (!decoded || typeof decoded.id !== "number") return;
    const call = this.#pending.take(decoded.id);
    if (!call) return; // a late answer to a call given up on
    call.settled?.();
    const outcome = decoded.outcome;
    const stream = outcome.ok && call.stream ? streamHandle(outcome.value) : undefined;
    call.resolve(
      stream === undefined
        ? outcome
        : { ok: true, value: this.streams.consume(stream, call.method ?? "stream") },
    );
  }

  /** Runs one member: its answer text, or null for a notification. */
  #member(member: JsonRpcMember, asked = false): string | null | Promise<string | null> {
    switch (member.kind) {
      case "invalid":
        return encodeError(member.id, member.error);
      case "notification":
        this.#notification(member.method, member.params);
        return null;
      case "call":
        return this.#request(member, asked && this.extensions);
    }
  }

  #notification(method: string, params: unknown): void {
    if (method === PING) return;
    if (isStreamNotification(method)) {
      const message = streamMessageOf(method, params, readStreamError);
      if (message) this.streams.receive(message, this.#messageBytes);
      return;
    }
    if (method === CANCEL) {
      const id = Array.isArray(params) ? params[0] : undefined;
      this.#running.get(id as JsonRpcId)?.abort(
        rpcError("Cancelled", `request ${JSON.stringify(id)} was cancelled by the caller`),
      );
      return;
    }
    // A socket cannot be paused from here (the WHATWG interface has no backpressure on
    // reads), so notifications past the cap are dropped, as JSON-RPC lets a server do.
    if (this.#notifying >= this.#maxInFlight) return;
    const running = this.#owner.notification(this, method, params);
    if (!running) return;
    this.#notifying++;
    running.then(this.#noteEnded, this.#noteEnded);
  }

  #noteEnded = (): void => {
    this.#notifying--;
  };

  #request(
    member: { id: JsonRpcId; method: string; params?: unknown },
    stream: boolean,
  ): string | Promise<string> {
    const id = member.id;
    if (this.#inFlight >= this.#maxInFlight) {
      return encodeError(id, overloaded(this.#maxInFlight));
    }
    if (member.method === PING) return encodeResponse(id, { ok: true, value: "pong" });
    this.#inFlight++;
    // Only a peer that said `$/hello` may cancel (`$/cancel`): a signal sends the router down
    // its slower, cancellable path, which a plain peer's call need not pay for.
    const controller = this.extensions ? new AbortController() : undefined;
    if (controller) this.#running.set(id, controller);
    const finish = (outcome: Outcome): string | Promise<string> => {
      if (outcome.ok && outcome.value instanceof OpenStream) {
        return this.#answerStream(outcome.value, stream, finish);
      }
      if (--this.#inFlight === 0) this.#wakeIdle();
      if (controller && this.#running.get(id) === controller) this.#running.delete(id);
      return encodeResponse(id, outcome);
    };
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = this.#owner.request(
        this,
        stream ? { id, method: member.method, params: member.params, stream } : member,
        controller?.signal,
      );
    } catch (error) {
      outcome = { ok: false, error: errorShape("InternalError", messageOf(error)) };
    }
    return outcome instanceof Promise ? outcome.then(finish) : finish(outcome);
  }

  /**
   * A streamed result: its handle to a peer that asked for it (items follow once it grants
   * credit), else the whole array (the owner should have asked the router for one).
   */
  #answerStream(
    open: OpenStream,
    asked: boolean,
    finish: (outcome: Outcome) => string | Promise<string>,
  ): string | Promise<string> {
    if (asked) return finish(this.streams.produce(open));
    return collectStream(open).then(
      (items) => finish({ ok: true, value: items }),
      (error) => finish({ ok: false, error: asRpcError(error).toShape() }),
    );
  }
}

/** How often a stream producer held by unsent bytes looks at the socket again. */
const DRAIN_POLL_MS = 5;

/** The UTF-8 size of `text` (each unit of a surrogate pair counts two of its four bytes). */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) bytes += unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}

/** `Promise.withResolvers`, which Node 20 lacks (the client runs there too). */
function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: RpcError) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: RpcError) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

function overloaded(limit: number): ErrorShape {
  return errorShape(
    "Overloaded",
    `too many requests in flight on this connection (limit ${limit})`,
  );
}

/** Whether a parsed message is a response (has a result or an error, and no method). */
function isResponse(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return !("method" in value) && ("result" in value || "error" in value);
}

function abortReason(method: string, signal: AbortSignal): RpcError {
  return signal.reason instanceof RpcError
    ? signal.reason
    : rpcError("Cancelled", `${method} was cancelled`);
}

function truncate(text: string, max: number): string {
  const bytes = encoder.encode(text);
  if (bytes.byteLength <= max) return text;
  return new TextDecoder().decode(bytes.subarray(0, max)).replace(/\uFFFD$/, "");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The `error` of a `$/stream.error` as the error model (a peer may send anything there). */
function readStreamError(error: unknown) {
  return receivedError(typeof error === "object" && error !== null ? error : {}, {
    code: -32603,
    message: "the stream failed",
  });
}
