/**
 * msgpack-rpc over a byte stream (TCP, optionally TLS), server side, without the socket:
 * `src/adapters/deno/tcp_listener.ts` binds these sessions to Deno's sockets. Plain msgpack-rpc clients work
 * as the spec says; Switchboard clients also use the reserved `$/…` methods (listed in
 * `src/wire/msgpackrpc/reserved.ts`), which never reach application handlers.
 *
 * With an `AuthGate`, every other request before a successful login is refused with
 * `Unauthorized` (-32001) and later calls carry the logged-in identity as `caller`.
 *
 * @module
 */

import type { StreamLimits } from "../wire/msgpackrpc/streams.ts";
import type { AuthGate } from "../auth/gate.ts";
import { errorShape, rpcError } from "../core/errors.ts";
import type { Implementation } from "../core/implement.ts";
import type { Router } from "../core/router/router.ts";
import type { Peer } from "../core/client/peer.ts";
import type { ByteStream } from "../wire/msgpackrpc/session.ts";
import { encodeOutcome, MessageDecoder } from "../wire/msgpackrpc/codec.ts";
import type { HeartbeatPolicy } from "../core/backoff.ts";
import { TcpServer } from "./tcp_connection.ts";
import type { PeerInfo } from "./tcp_peers.ts";
import type { TopicDelivery, Topics } from "./tcp_pubsub.ts";

export type { PeerInfo, TopicDelivery };

/** Default cap on open connections per TCP listener. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** Options of the TCP transport. */
export interface TcpOptions {
  /** Largest accepted message in bytes (default 16 MiB); larger frames close the connection. */
  maxMessageBytes?: number;
  /**
   * Requests running at once per connection; more are refused `Overloaded` (default 1024).
   * As many notifications may run besides; then the connection is not read until one ends.
   */
  maxInFlight?: number;
  /**
   * Answer bytes a connection may leave unread (default 1 MiB): beyond it the connection's
   * requests are not read until its answers are written; beyond it plus `maxMessageBytes`
   * the connection is closed, and the reason logged.
   */
  maxUnwrittenBytes?: number;
  /**
   * Open connections (default {@linkcode DEFAULT_MAX_CONNECTIONS}). Beyond it a connection's
   * first request is answered `Overloaded` and the connection closed.
   */
  maxConnections?: number;
  /** Topics one connection may subscribe to (default 1000); more are refused `Overloaded`. */
  maxTopics?: number;
  /**
   * Joins this listener's publish–subscribe to other listeners' (the worker isolates of one
   * server): given this listener's delivery to its own subscribers, returns where its
   * publishes go besides them.
   */
  topicRelay?: (deliver: TopicDelivery) => TopicDelivery;
  /** The topic table to share (a `Server` shares one among its listeners, every transport). */
  topics?: Topics;
  /**
   * Streamed results (`t.stream`) to Switchboard peers, per connection: `maxStreams` open at
   * once (default 256; more are refused `Overloaded`), `maxItemBytes` per item (default
   * 1 MiB), `idleMs` a stream waits for credit before it ends `Timeout` (default 60 s).
   */
  streams?: StreamLimits;
  /** Require a login (`$/auth.hello` + `$/auth.login`) before any other request. */
  auth?: AuthGate;
  /** Liveness of Switchboard peers (those that said `$/hello`); `false` turns it off. */
  heartbeat?: HeartbeatPolicy | false;
  /** Which methods this listener exposes (all by default); others are "not found". */
  expose?: (method: string) => boolean;
  /** Default timeout of server → peer calls in ms (default 30 s). */
  peerTimeout?: number;
  /**
   * How long `shutdown()` lets in-flight calls run (default 30 s); calls still running then
   * are answered `Unavailable` ("server shutting down") before the connection closes.
   */
  shutdownGrace?: number;
}

/** Connections being refused at once (over the limit); more are closed unanswered. */
const MAX_REFUSING = 64;
/** How long a refused connection may take to send its first request. */
const REFUSE_WAIT_MS = 1000;

/**
 * The sessions of one TCP listener, without the socket: `accept` takes each connection's
 * byte stream (the adapter's accept loop calls it), and `shutdown` drains them once the
 * adapter has stopped accepting.
 */
export interface TcpSessions {
  /** Serves one accepted connection (or refuses it, over the connection limit). */
  accept(stream: ByteStream): void;
  /**
   * Lets in-flight calls finish within the grace period, answers the rest `Unavailable`, and
   * closes every connection. Call it after the socket stopped accepting.
   */
  drain(): Promise<void>;
  /** The peers connected now (connections that introduced themselves). */
  peers(): PeerInfo[];
  /** How many connections are open now (plain clients and peers alike). */
  connections(): number;
  /** A handle on a peer by identity; valid across its reconnects. */
  peer(id: string): Peer;
  /** Serves a topic's published calls with `impl` in this process; returns an unsubscribe. */
  subscribe(topic: string, impl: Implementation): () => void;
  /** Publishes a call to a topic's subscribers; resolves with how many received it. */
  publish(topic: string, method: string, params?: unknown): Promise<number>;
}

/** The msgpack-rpc sessions of a router over byte streams: what a TCP listener runs. */
export function tcpSessions(router: Router, options: TcpOptions = {}): TcpSessions {
  const server = new TcpServer(router, options);
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  let refusing = 0;
  const drain = async () => {
    const sessions = [...server.sessions];
    // In-flight calls may finish within the grace period; those still running are then
    // told the server is going away, and every connection closes.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.shutdownGrace ?? 30_000);
    });
    const goingAway = errorShape("Unavailable", "server shutting down");
    await Promise.all(sessions.map(async (s) => {
      await Promise.race([s.drain(), grace]);
      s.cutOff(goingAway);
      await s.closeAfterFlush(rpcError("Unavailable", "server shutting down"));
    }));
    clearTimeout(timer);
    await Promise.all(sessions.map((s) => s.done));
  };
  return {
    accept: (stream) => {
      if (server.sessions.size < maxConnections) return server.accept(stream);
      if (refusing >= MAX_REFUSING) return closeQuietly(stream);
      refusing++;
      refuse(stream, maxConnections).finally(() => refusing--);
    },
    drain,
    peers: () => server.peers.list(),
    connections: () => server.sessions.size,
    peer: (id) => server.peers.peer(id),
    subscribe: (topic, impl) => server.topics.subscribe(topic, impl),
    publish: (topic, method, params) => server.topics.publish(topic, method, params),
  };
}

/**
 * A connection over the limit: its first request (if it comes within a second) is
 * answered `Overloaded`, so a msgpack-rpc client sees why; then it is closed.
 */
async function refuse(stream: ByteStream, limit: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const decoder = new MessageDecoder(64 * 1024);
    const buffer = new Uint8Array(4096);
    const timeout = new Promise<null>((resolve) =>
      timer = setTimeout(resolve, REFUSE_WAIT_MS, null)
    );
    for (;;) {
      const read = stream.read(buffer);
      read.catch(() => {}); // the close below may interrupt it
      const n = await Promise.race([read, timeout]);
      if (n === null) return;
      decoder.push(buffer.subarray(0, n));
      const next = decoder.next();
      if (!next) continue;
      const msgid = next.ok
        ? next.message.type === 0 ? next.message.msgid : undefined
        : next.error.msgid;
      if (msgid === undefined) return;
      const reply = encodeOutcome(msgid, {
        ok: false,
        error: errorShape(
          "Overloaded",
          `server has too many connections (limit ${limit}); retry later`,
        ),
      }, true);
      for (let o = 0; o < reply.byteLength;) o += await stream.write(reply.subarray(o));
      return;
    }
  } catch {
    // the peer went away
  } finally {
    clearTimeout(timer);
    closeQuietly(stream);
  }
}

function closeQuietly(stream: ByteStream): void {
  try {
    stream.close();
  } catch {
    // closed already
  }
}
