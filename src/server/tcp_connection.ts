/**
 * The server side of every msgpack-rpc connection: its state (address, identity, peer id),
 * the reserved `$/…` methods (hello, login, ping, subscriptions), and the hand-off of
 * application requests and notifications to the router. Peers and topics live in their own
 * tables (`tcp_peers.ts`, `tcp_pubsub.ts`); what a connection put there goes when it closes.
 *
 * @module
 */

import type { AuthGate } from "../auth/gate.ts";
import { AUTH_HELLO, AUTH_LOGIN } from "../auth/types.ts";
import type { NotificationMessage, RequestMessage } from "../wire/msgpackrpc/codec.ts";
import type { Call, Identity } from "../core/context.ts";
import { asRpcError, errorShape, methodNotFound, RpcError, rpcError } from "../core/errors.ts";
import type { Router } from "../core/router/router.ts";
import { type RouterView, routerView } from "../core/router/_transport.ts";
import type { MethodDef } from "../core/idl/interface.ts";
import { Peer } from "../core/client/peer.ts";
import { type ByteStream, Session, type SessionOwner } from "../wire/msgpackrpc/session.ts";
import type { StreamLimits } from "../wire/msgpackrpc/streams.ts";
import { streamParamNames } from "../core/stream/params.ts";
import {
  HELLO,
  isReserved,
  PING,
  PUBLISH,
  SUBSCRIBE,
  UNSUBSCRIBE,
} from "../wire/msgpackrpc/reserved.ts";
import { type HeartbeatPolicy, missedBeats } from "../core/backoff.ts";
import { fieldsHoldBytes, strBytesOf, strBytesParams } from "../wire/msgpackrpc/bytes_params.ts";
import { link, PeerRegistry } from "./tcp_peers.ts";
import { type TopicDelivery, Topics } from "./tcp_pubsub.ts";

/** What a connection needs of the listener's options. */
export interface ConnectionOptions {
  maxMessageBytes?: number;
  maxInFlight?: number;
  maxUnwrittenBytes?: number;
  auth?: AuthGate;
  heartbeat?: HeartbeatPolicy | false;
  expose?: (method: string) => boolean;
  peerTimeout?: number;
  maxTopics?: number;
  topicRelay?: (deliver: TopicDelivery) => TopicDelivery;
  /** The topic table to share (a `Server` shares one among its listeners). */
  topics?: Topics;
  streams?: StreamLimits;
}

/** Longest peer id a `$/hello` may give (ids are keys of the peer table). */
const MAX_PEER_ID = 256;

interface ConnState {
  /** The peer's address, kept for every call's `remote`. */
  remote: string;
  peerId?: string;
  caller?: Identity;
  nonce?: string;
  connectedAt: Date;
  peer: Peer;
}

function state(session: Session): ConnState {
  return session.state as unknown as ConnState;
}

/** What msgpack-rpc does for one method's declaration beyond the router's work. */
interface WirePlan {
  def?: MethodDef;
  /** Its params hold `t.bytes`: a plain peer's str there becomes bytes. */
  bytes: boolean;
  /** Its `t.stream` params: a Switchboard peer's handles there become streams. */
  streams?: readonly string[];
}

const NO_PLAN: WirePlan = { bytes: false };

/** Every connection of one listener. */
export class TcpServer implements SessionOwner {
  readonly #router: Router;
  readonly #view: RouterView;
  readonly #options: ConnectionOptions;
  readonly #heartbeat?: HeartbeatPolicy;
  readonly sessions = new Set<Session>();
  readonly peers: PeerRegistry;
  readonly topics: Topics;
  // The plan of the method last called (see #planFor), and whether any method needs one.
  #planName?: string;
  #planCaller?: Identity;
  #planGeneration = -1;
  #anyPlan = false;
  #plan: WirePlan = NO_PLAN;

  constructor(router: Router, options: ConnectionOptions) {
    this.#router = router;
    this.#view = routerView(router);
    this.#options = options;
    this.#heartbeat = options.heartbeat === false ? undefined : options.heartbeat ?? missedBeats();
    this.peers = new PeerRegistry(options.peerTimeout);
    this.topics = options.topics ?? new Topics(router, options.maxTopics);
    const relay = options.topicRelay;
    if (relay) {
      this.topics.relay = relay((topic, method, params, caller) =>
        void this.topics.deliver(topic, method, params, caller).catch(() => {})
      );
    }
  }

  accept(stream: ByteStream): void {
    const session = new Session(stream, this, {
      maxMessageBytes: this.#options.maxMessageBytes,
      maxInFlight: this.#options.maxInFlight,
      maxUnwrittenBytes: this.#options.maxUnwrittenBytes,
      streams: this.#options.streams,
    });
    const peer = new Peer(
      `anonymous@${session.remote}`,
      () => session.open ? link(session) : undefined,
      { timeout: this.#options.peerTimeout },
    );
    const s: ConnState = { remote: session.remote, connectedAt: new Date(), peer };
    Object.assign(session.state, s);
    this.sessions.add(session);
  }

  request(session: Session, message: RequestMessage, signal?: AbortSignal): void {
    const method = message.method;
    if (isReserved(method)) {
      this.#reserved(session, message).then(
        (value) => session.respond(message.msgid, { ok: true, value }),
        (error) =>
          session.respond(message.msgid, { ok: false, error: asRpcError(error).toShape() }),
      );
      return;
    }
    const st = state(session);
    if (this.#options.auth && !st.caller) {
      session.respond(message.msgid, {
        ok: false,
        error: errorShape(
          "Unauthorized",
          `log in first ($/auth.hello, then $/auth.login) before calling ${method}`,
        ),
      });
      return;
    }
    const view = this.#view;
    // What msgpack needs of the declaration (str as bytes), remembered per name.
    const plan = this.#planFor(method, st.caller);
    let params = plan.bytes
      ? strBytesOf(plan.def!.params, message.params, session)
      : message.params;
    if (plan.streams && session.extensions) {
      params = session.streams.paramsIn(method, params, plan.streams);
    }
    const call: Call = {
      method,
      params,
      protocol: "msgpack-rpc",
      id: message.msgid,
      peer: st.peer,
      remote: st.remote,
    };
    if (st.caller) call.caller = st.caller;
    if (this.#options.expose) call.expose = this.#options.expose;
    if (signal) call.signal = signal;
    if (message.timeout !== undefined) call.deadline = Date.now() + message.timeout;
    if (message.trace !== undefined) call.trace = message.trace;
    // A Switchboard peer that asks takes a streamed result item by item; others get the array.
    if (message.stream && session.extensions) call.stream = true;
    const outcome = view.dispatchNow(call);
    const msgid = message.msgid;
    if (outcome instanceof Promise) outcome.then((settled) => session.respond(msgid, settled));
    else session.respond(msgid, outcome);
  }

  /**
   * What msgpack-rpc does for a method's declaration, worked out once per name and caller
   * until the registrations change (nothing at all when no registered method declares bytes
   * params): most calls repeat the method before them, and resolving it
   * and walking its types per call cost more than a small call.
   */
  #planFor(method: string, caller: Identity | undefined): WirePlan {
    const generation = this.#view.generation;
    if (generation !== this.#planGeneration) {
      // Nothing registered declares bytes params: no call needs a plan.
      this.#anyPlan = this.#view.registeredInterfaces().some((i) =>
        Object.values(i.methods).some((def) =>
          fieldsHoldBytes(def.params) || streamParamNames(def.params)
        )
      );
      this.#planGeneration = generation;
      this.#planName = undefined;
    }
    if (!this.#anyPlan) return NO_PLAN;
    if (method === this.#planName && caller === this.#planCaller) return this.#plan;
    const def = this.#router.resolve(method, caller)?.def;
    this.#planName = method;
    this.#planCaller = caller;
    return this.#plan = def
      ? { def, bytes: fieldsHoldBytes(def.params), streams: streamParamNames(def.params) }
      : NO_PLAN;
  }

  async #reserved(session: Session, message: RequestMessage): Promise<unknown> {
    const st = state(session);
    const params = Array.isArray(message.params) ? message.params : [message.params];
    switch (message.method) {
      case HELLO: {
        const hello = (params[0] ?? {}) as { id?: unknown };
        if (typeof hello.id === "string" && hello.id.length > MAX_PEER_ID) {
          throw rpcError("InvalidParams", `peer id longer than ${MAX_PEER_ID} characters`);
        }
        session.extensions = true;
        if (!this.#options.auth && typeof hello.id === "string" && hello.id) {
          this.#identify(session, hello.id);
        }
        if (this.#heartbeat) session.startHeartbeat(this.#heartbeat);
        return {
          server: "switchboard",
          protocol: 1,
          heartbeat: this.#heartbeat?.interval ?? null,
          auth: this.#options.auth ? this.#options.auth.schemes : null,
          peer: st.peerId ?? null,
        };
      }
      case AUTH_HELLO: {
        if (!this.#options.auth) throw rpcError("MethodNotFound", "this server requires no login");
        const hello = this.#options.auth.hello();
        st.nonce = hello.nonce;
        return hello;
      }
      case AUTH_LOGIN: {
        const gate = this.#options.auth;
        if (!gate) throw rpcError("MethodNotFound", "this server requires no login");
        const nonce = st.nonce;
        st.nonce = undefined; // one attempt per nonce
        if (!nonce) throw rpcError("Unauthorized", "call $/auth.hello first for a nonce");
        const login = (params[0] ?? {}) as { scheme?: unknown; proof?: unknown };
        const identity = await gate.login(
          session.remote.slice(0, session.remote.lastIndexOf(":")),
          nonce,
          login.scheme,
          login.proof,
        );
        st.caller = identity;
        this.#identify(session, identity.id);
        return identity;
      }
      case PING:
        return "pong";
      case SUBSCRIBE:
      case UNSUBSCRIBE: {
        if (this.#options.auth && !st.caller) throw rpcError("Unauthorized", "log in first");
        if (message.method === SUBSCRIBE) {
          return this.topics.subscribeRequest(session, params, this.#options.maxTopics);
        }
        const topic = params[0];
        if (typeof topic !== "string") throw rpcError("InvalidParams", "expected [topic]");
        this.topics.remove(session, topic);
        return true;
      }
      default:
        throw new RpcError(methodNotFound(message.method));
    }
  }

  /** Binds a connection to a peer id; a newer connection of the same peer replaces the old. */
  #identify(session: Session, id: string): void {
    const st = state(session);
    st.peer = this.peers.bind(session, id, st.peerId);
    st.peerId = id;
    session.label = `peer ${id}`;
  }

  notification(session: Session, message: NotificationMessage): void | Promise<unknown> {
    const st = state(session);
    if (this.#options.auth && !st.caller) return; // not logged in: dropped
    if (message.method === PUBLISH) {
      const [topic, method, params] = Array.isArray(message.params) ? message.params : [];
      if (typeof topic === "string" && typeof method === "string") {
        return this.topics.publish(topic, method, params, st.caller);
      }
      return;
    }
    if (isReserved(message.method)) return;
    const call: Call = {
      method: message.method,
      params: strBytesParams(
        this.#router,
        message.method,
        message.params,
        st.caller,
        session,
      ),
      notification: true,
      protocol: "msgpack-rpc",
      peer: st.peer,
    };
    if (st.caller) call.caller = st.caller;
    if (this.#options.expose) call.expose = this.#options.expose;
    // A running notification holds a slot of the connection (see SessionOwner).
    const outcome = this.#view.dispatchNow(call);
    if (outcome instanceof Promise) return outcome;
  }

  dropped(_session: Session, reason: RpcError): void {
    this.#router.logger.warn(`tcp: closing a connection: ${reason.message}`);
  }

  closed(session: Session): void {
    this.sessions.delete(session);
    const st = state(session);
    if (st.peerId) this.peers.release(session, st.peerId);
    this.topics.drop(session);
  }
}
