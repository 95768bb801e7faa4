/**
 * The msgpack-rpc TCP client transport behind `connect("tcp://host:port")` (and
 * `tls://`): one connection multiplexes every call (pipelined, answered in completion
 * order). The connection is opened on first use; after a drop, the next call reconnects,
 * and a client that serves handlers or subscriptions reconnects by itself with backoff
 * and jitter. On every (re)connect it introduces itself (`$/hello`, with its peer id),
 * logs in when given credentials, and re-subscribes, before any queued call is sent.
 *
 * @module
 */

import { Redial } from "./redial.ts";
import type { AuthCredentials } from "../auth/types.ts";
import { AUTH_HELLO, AUTH_LOGIN } from "../auth/types.ts";
import type { NotificationMessage, RequestMessage } from "../wire/msgpackrpc/codec.ts";
import type { Call, Identity, Outcome } from "../core/context.ts";
import { asRpcError, RpcError, rpcError } from "../core/errors.ts";
import type { Implementation } from "../core/implement.ts";
import { Router } from "../core/router/router.ts";
import { dialStream } from "./_tcp_dial.ts";
import {
  exponentialBackoff,
  type HeartbeatPolicy,
  missedBeats,
  type ReconnectPolicy,
} from "../core/backoff.ts";
import { type ByteStream, Session, type SessionOwner } from "../wire/msgpackrpc/session.ts";
import {
  EVENT,
  EVENT_GAP,
  HELLO,
  isReserved,
  PING,
  PUBLISH,
  SUBSCRIBE,
  UNSUBSCRIBE,
} from "../wire/msgpackrpc/reserved.ts";
import { Client } from "../core/client/client.ts";
import { strBytesParams } from "../wire/msgpackrpc/bytes_params.ts";
import { type ConnectOptions, registerTransport } from "./connect.ts";
import { ENTRIES } from "../entries.ts";
import { Peer } from "../core/client/peer.ts";
import type { OutgoingCall, SubscribeOptions, Transport } from "../core/client/transport.ts";
import { Subscriptions } from "./subscriptions.ts";
import { surviveDrops } from "./tcp_reconnect.ts";
import { unsent } from "../core/client/unsent.ts";

/** Options of the TCP client transport (also accepted by `connect()`). */
export interface TcpTransportOptions {
  /** Extra PEM CA certificates to trust for `tls://` (e.g. a self-signed server's). */
  caCerts?: string[];
  /** This client's peer id, stable across reconnects (the server calls it by this name). */
  id?: string;
  /** Log in with these credentials on every (re)connect. */
  auth?: AuthCredentials;
  /** Heartbeats towards a Switchboard server; `false` turns them off. */
  heartbeat?: HeartbeatPolicy | false;
  /** Delay before background reconnect attempts (default exponential backoff with jitter). */
  reconnect?: ReconnectPolicy;
  /** Send `$/hello` on connect (default true); `false` for plain msgpack-rpc servers. */
  hello?: boolean;
  /** Give up on a connect + handshake after this many ms (default 10 000). */
  connectTimeout?: number;
  /** Largest accepted message in bytes (default 16 MiB). */
  maxMessageBytes?: number;
  /** Server → client requests running at once (default 1024). */
  maxInFlight?: number;
}

/** What the server answered to `$/hello`. */
interface HelloReply {
  heartbeat?: number | null;
}

/**
 * A msgpack-rpc client transport over one TCP connection (what `connect("tcp://…")` uses).
 *
 * @example A named client the server can call back
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Server } from "@switchboard/rpc/server";
 * import { TcpTransport } from "@switchboard/rpc/tcp";
 *
 * const Ping = defineInterface("Ping", { ping: method({ result: t.string }) });
 * const server = new Server().register(implement(Ping, { ping: () => "pong" }));
 * const tcp = await server.listenTcp({ port: 0 });
 * const client = new Client(new TcpTransport(tcp.url, { id: "worker-7" }));
 * assert.equal(await client.proxy(Ping).ping(), "pong");
 * assert.deepEqual(tcp.peers().map((p) => p.id), ["worker-7"]);
 * await client.close();
 * await server.close();
 * ```
 */
export class TcpTransport implements Transport {
  readonly #url: URL;
  readonly #options: TcpTransportOptions;
  readonly #redial: Redial;
  #session?: Session;
  #connecting?: Promise<Session>;
  #closed = false;
  /** Handlers the server may call. */
  #router?: Router;
  /** topic → handlers of published calls, and the last sequence number received. */
  readonly #topics = new Subscriptions();
  readonly #sessions = new Set<Session>();
  #server?: Peer;
  /** What the sessions report back to (kept off the public surface). */
  readonly #owner: SessionOwner = {
    request: (session, message, signal) => this.#request(session, message, signal),
    notification: (session, message) => this.#notification(session, message),
    closed: (session) => this.#closed_(session),
  };
  /** The identity the server gave this client at login, if any. */
  identity?: Identity;

  /** `url` is `tcp://host:port` or `tls://host:port`. */
  constructor(url: string | URL, options: TcpTransportOptions = {}) {
    this.#url = new URL(url);
    this.#options = options;
    this.#redial = new Redial(options.reconnect ?? exponentialBackoff(), {
      open: () => this.#ready(),
      wanted: () => this.#router !== undefined || this.#topics.size > 0,
      closed: () => this.#closed,
    });
  }

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.#session?.open ?? false;
  }

  /** Opens the connection now (calls do it on demand); resolves once the handshake is done. */
  async connect(): Promise<void> {
    await this.#ready();
  }

  #ready(): Promise<Session> {
    const session = this.#session;
    if (session?.open) return Promise.resolve(session);
    if (this.#closed) return Promise.reject(rpcError("Unavailable", "the client is closed"));
    return this.#connecting ??= this.#open().finally(() => this.#connecting = undefined);
  }

  async #open(): Promise<Session> {
    const limit = this.#options.connectTimeout ?? 10_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let session: Session | undefined;
    let expired = false;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        const error = rpcError("Unavailable", `connecting to ${this.#url.href} timed out`);
        session?.close(error);
        reject(error);
      }, limit);
    });
    try {
      const handshake = (async () => {
        let conn: ByteStream;
        try {
          conn = await dialStream(this.#url, this.#options);
        } catch (error) {
          throw rpcError(
            "Unavailable",
            `cannot connect to ${this.#url.href}: ${
              error instanceof Error ? error.message : error
            }`,
          );
        }
        if (this.#closed || expired) {
          conn.close();
          throw rpcError("Unavailable", expired ? "connect timed out" : "the client is closed");
        }
        session = new Session(conn, this.#owner, {
          label: this.#url.href,
          maxMessageBytes: this.#options.maxMessageBytes,
          maxInFlight: this.#options.maxInFlight,
        });
        this.#sessions.add(session);
        await this.#handshake(session);
        return session;
      })();
      handshake.catch(() => {});
      const ready = await Promise.race([handshake, timedOut]);
      this.#session = ready;
      this.#redial.connected();
      return ready;
    } catch (error) {
      session?.close(asRpcError(error));
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #handshake(session: Session): Promise<void> {
    if (this.#options.hello === false) return;
    const hello = await session.call(HELLO, [{ id: this.#options.id ?? null }]);
    // Any error: a plain msgpack-rpc server, spoken to by the spec alone.
    if (!hello.ok) return;
    session.extensions = true;
    const heartbeat = this.#options.heartbeat === false
      ? undefined
      : this.#options.heartbeat ?? missedBeats();
    if (heartbeat && (hello.value as HelloReply | null)?.heartbeat) {
      session.startHeartbeat(heartbeat);
    }
    if (this.#options.auth) await this.#login(session, this.#options.auth);
    for (const topic of [...this.#topics.keys()]) await this.#subscribeOn(session, topic);
  }

  /** `$/subscribe`, resuming after the last published call received. */
  async #subscribeOn(session: Session, topic: string): Promise<void> {
    const reply = unwrap(
      await session.call(SUBSCRIBE, this.#topics.request(topic, session.extensions)),
    );
    this.#topics.subscribed(topic, reply);
  }

  async #login(session: Session, credentials: AuthCredentials): Promise<void> {
    const hello = unwrap(await session.call(AUTH_HELLO, [])) as { nonce?: unknown };
    if (typeof hello?.nonce !== "string") {
      throw rpcError("Unauthorized", `${this.#url.href} sent no login nonce`);
    }
    const proof = await credentials.prove(hello.nonce);
    this.identity = unwrap(
      await session.call(AUTH_LOGIN, [{ scheme: credentials.scheme, proof }]),
    ) as Identity;
  }

  /** Calls travel as msgpack-rpc. */
  rpcSystem(): string {
    return "msgpack-rpc";
  }

  /** A drop with the call in flight: idempotent calls are sent again, others fail. */
  call(request: OutgoingCall): Promise<Outcome> {
    return surviveDrops(request, () => this.#call(request), () => this.#closed, this.#url.href);
  }

  #call(request: OutgoingCall): Promise<Outcome> {
    const session = this.#session;
    if (session?.open) return session.call(request.method, request.params, request);
    // No connection could be opened: the call never left (a balancer may send it elsewhere).
    return this.#ready().then(
      (s) => s.call(request.method, request.params, request),
      (error) => Promise.reject(unsent(error)),
    );
  }

  async notify(request: OutgoingCall): Promise<void> {
    (await this.#ready()).notify(request.method, request.params);
  }

  /** Serves an implementation to the server over this connection (server → client calls). */
  register(impl: Implementation): void {
    this.#handlers().register(impl);
    this.#redial.stay();
  }

  /**
   * Runs `impl` for every call published to `topic`; re-subscribed after reconnects, resuming
   * from the publisher's replay buffer (what it no longer has goes to `options.onGap`).
   */
  async subscribe(
    topic: string,
    impl: Implementation,
    options?: SubscribeOptions,
  ): Promise<void> {
    const router = this.#newRouter();
    router.register(impl);
    this.#topics.set(topic, router, options);
    this.#redial.stay();
    await this.#subscribeOn(await this.#ready(), topic);
  }

  /** Stops receiving a topic. */
  async unsubscribe(topic: string): Promise<void> {
    if (!this.#topics.delete(topic)) return;
    const session = this.#session;
    if (session?.open) unwrap(await session.call(UNSUBSCRIBE, [topic]));
  }

  /** Publishes a call to a topic: the server runs it on every subscriber (no reply). */
  async publish(topic: string, method: string, params?: unknown): Promise<void> {
    (await this.#ready()).notify(PUBLISH, [topic, method, params ?? []]);
  }

  #handlers(): Router {
    return this.#router ??= this.#newRouter();
  }

  #newRouter(): Router {
    const router = new Router();
    router.client = new Client(this);
    return router;
  }

  /** The server as a peer (what client-side handlers get as `ctx.peer`). */
  #serverPeer(): Peer {
    return this.#server ??= new Peer(
      this.#url.href,
      () => this.#session?.open ? this.#session : undefined,
    );
  }

  #request(session: Session, message: RequestMessage, signal?: AbortSignal): void {
    const router = this.#router;
    if (isReserved(message.method) || !router) {
      const ping = message.method === PING;
      session.respond(
        message.msgid,
        ping ? { ok: true, value: "pong" } : {
          ok: false,
          error: rpcError(
            "MethodNotFound",
            `Method not found: ${message.method} (this client serves ${
              router ? router.interfaces().map((i) => i.name).join(", ") : "nothing"
            })`,
          ).toShape(),
        },
      );
      return;
    }
    const call: Call = {
      method: message.method,
      params: strBytesParams(router, message.method, message.params, undefined, session),
      protocol: "msgpack-rpc",
      id: message.msgid,
      peer: this.#serverPeer(),
    };
    if (signal) call.signal = signal;
    if (message.timeout !== undefined) call.deadline = Date.now() + message.timeout;
    if (message.trace !== undefined) call.trace = message.trace;
    if (message.stream && session.extensions) call.stream = true;
    router.dispatch(call).then((outcome) => session.respond(message.msgid, outcome));
  }

  #notification(session: Session, message: NotificationMessage): void {
    let router: Router | undefined = this.#router;
    let method = message.method;
    let params = message.params;
    // The params' own bytes (for strs at t.bytes places), unless they sit inside an event.
    let source: Session | undefined = session;
    if (message.method === EVENT) {
      source = undefined;
      const delivery = this.#topics.event(message.params);
      if (!delivery) return;
      ({ router, method, params } = delivery);
    } else if (message.method === EVENT_GAP) {
      return this.#topics.gap(message.params);
    } else if (isReserved(method)) return;
    if (!router) return;
    void router.dispatch({
      method,
      params: strBytesParams(router, method, params, undefined, source),
      notification: true,
      protocol: "msgpack-rpc",
      peer: this.#serverPeer(),
    });
  }

  #closed_(session: Session): void {
    this.#sessions.delete(session);
    if (this.#session !== session) return;
    this.#session = undefined;
    this.#redial.schedule();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#redial.stop();
    await this.#connecting?.catch(() => {});
    const sessions = [...this.#sessions];
    // What was sent before close (a notification, a reply, a cancel) reaches the server.
    const reason = rpcError("Unavailable", "the client was closed");
    await Promise.all(sessions.map((s) => s.closeGracefully(reason, CLOSE_GRACE_MS)));
    await Promise.all(sessions.map((s) => s.done));
  }
}

/** How long `close()` waits for queued bytes to reach a peer that does not read. */
const CLOSE_GRACE_MS = 2000;

function unwrap(outcome: Outcome): unknown {
  if (outcome.ok) return outcome.value;
  throw RpcError.fromShape(outcome.error);
}

function tcpFactory(url: URL, options: ConnectOptions): Transport {
  return new TcpTransport(url, options as TcpTransportOptions);
}
for (const scheme of ENTRIES["./tcp"].schemes) registerTransport(scheme, tcpFactory);
