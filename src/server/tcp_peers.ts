/**
 * The peers of a TCP or WebSocket listener: which connection speaks for which peer id, and the
 * {@linkcode Peer} handles the server calls them through. An entry lives exactly as long as
 * the peer's connection: ids a peer chose die with it, so the table is bounded by the open
 * connections. A handle outlives nothing: one asked for later is rebuilt, and an old handle
 * still reaches the peer's current connection (it looks the id up at call time).
 *
 * @module
 */

import { Peer, type PeerLink } from "../core/client/peer.ts";
import { rpcError } from "../core/errors.ts";
import type { Identity } from "../core/context.ts";
import type { RpcError } from "../core/errors.ts";

/** A connected peer, as listed by `TcpListener.peers()`. */
export interface PeerInfo {
  /** The peer's identity. */
  id: string;
  /** Its address (`host:port`). */
  remote: string;
  /** When its current connection was made. */
  connectedAt: Date;
  /** The authenticated identity, when the server requires auth. */
  caller?: Identity;
}

/** A connection that speaks for a peer (a msgpack-rpc or a JSON-RPC session). */
export interface PeerConnection extends PeerLink {
  /** Whether it is open. */
  readonly open: boolean;
  /** The peer's address. */
  readonly remote: string;
  /** The owner's state (see `Known`). */
  readonly state: Record<string, unknown>;
  /** Closes it. */
  close(reason?: RpcError): void;
}

type Session = PeerConnection;

/** What the registry reads of a connection's state. */
interface Known {
  peerId?: string;
  caller?: Identity;
  connectedAt: Date;
}

/** Peer ids → their live connection and handle. */
export class PeerRegistry {
  readonly #byId = new Map<string, { session: Session; handle: Peer }>();
  readonly #timeout?: number;

  /** `timeout`: default timeout of server → peer calls. */
  constructor(timeout?: number) {
    this.#timeout = timeout;
  }

  /**
   * Binds `session` to `id` and returns the peer's handle; a newer connection of the same
   * peer replaces (and closes) the old one.
   */
  bind(session: Session, id: string, previousId: string | undefined): Peer {
    if (previousId !== undefined && previousId !== id) this.release(session, previousId);
    const current = this.#byId.get(id);
    if (current && current.session !== session) {
      current.session.close(
        rpcError("Unavailable", `peer ${id} connected again; old connection closed`),
      );
    }
    const handle = current?.handle ?? this.#handle(id);
    this.#byId.set(id, { session, handle });
    return handle;
  }

  /** Forgets `id` if `session` still speaks for it (the connection closed or renamed itself). */
  release(session: Session, id: string): void {
    if (this.#byId.get(id)?.session === session) this.#byId.delete(id);
  }

  /** How many peers are connected. */
  get size(): number {
    return this.#byId.size;
  }

  /** The connected peers. */
  list(): PeerInfo[] {
    return [...this.#byId.entries()].map(([id, { session }]) => {
      const known = session.state as unknown as Known;
      const info: PeerInfo = { id, remote: session.remote, connectedAt: known.connectedAt };
      if (known.caller) info.caller = known.caller;
      return info;
    });
  }

  /** The handle of peer `id`: the live one, or a fresh one (calls fail while it is away). */
  peer(id: string): Peer {
    return this.#byId.get(id)?.handle ?? this.#handle(id);
  }

  #handle(id: string): Peer {
    return new Peer(id, () => {
      const session = this.#byId.get(id)?.session;
      return session?.open ? link(session) : undefined;
    }, { timeout: this.#timeout });
  }
}

/** A session as a peer link (server → peer calls). */
export function link(session: Session): PeerLink {
  return session;
}
