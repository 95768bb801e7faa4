/**
 * What travels through the router: a transport-neutral `Call`, its `Outcome`, and the
 * `CallContext` a handler receives.
 *
 * @module
 */

import type { CallOptions, InterfaceDef, InterfaceProxy } from "./idl/interface.ts";
import type { ErrorShape } from "./errors.ts";
import type { Type } from "./idl/types.ts";

/** Who is calling, as established by an authentication plug-in. */
export interface Identity {
  /** Stable identifier (user name, peer id, process name). */
  id: string;
  /** Roles or permission domains the caller holds (e.g. `admin`). */
  roles?: readonly string[];
  /** Anything else the authenticator attached. */
  [key: string]: unknown;
}

/** A call as every transport hands it to the router. */
export interface Call {
  /** `Interface.method` (or an unqualified method of the default interface). */
  method: string;
  /** By position (array), by name (object), or absent. */
  params?: unknown;
  /** True when the caller expects no reply. */
  notification?: boolean;
  /** The authenticated caller, if any. */
  caller?: Identity;
  /** Absolute deadline (epoch milliseconds) after which the call is abandoned. */
  deadline?: number;
  /** Aborted when the caller cancels. */
  signal?: AbortSignal;
  /** Which wire protocol carried it (`jsonrpc`, `xmlrpc`, `msgpack-rpc`, `local`, …). */
  protocol?: string;
  /** The wire id, if any (for logs and idempotency). */
  id?: string | number | null;
  /** The connected peer the call came from, when the transport supports calling back. */
  peer?: PeerLike;
  /**
   * Which methods (full `Interface.method` names) the listener that took the call exposes;
   * the router answers any other as not found. Absent: all.
   */
  expose?: (method: string) => boolean;
  /** The caller's network address (`host` or `host:port`), for logs. */
  remote?: string;
  /** The caller's W3C trace context (`traceparent`, `tracestate`), when it sent one. */
  trace?: TraceCarrier;
  /**
   * The transport takes a streamed result item by item: the outcome's value is then an
   * `OpenStream` for it to pump. Otherwise a stream is answered as one array (up to the
   * router's `maxStreamItems`).
   */
  stream?: boolean;
}

/** W3C trace context as it travels: the `traceparent` and `tracestate` values. */
export interface TraceCarrier {
  /** `00-<trace id>-<parent span id>-<flags>`. */
  traceparent: string;
  /** Vendor state, if any. */
  tracestate?: string;
}

/**
 * The outcome of a dispatched call: a value or an error shape. `plain`: the value is plain
 * JSON (codecs may skip tagging work). `floats`: the declared result type, present when it
 * holds `t.float`, so that codecs which cannot tell `3.0` from `3` write whole numbers there
 * as floats.
 */
export type Outcome =
  | {
    /** The call succeeded. */
    ok: true;
    /** What the handler returned (checked against the declared result). */
    value: unknown;
    /**
     * Set by the router when the value is plain JSON (no dates, bytes or registered
     * types): a codec may then skip tagging it. A hint; leave it unset when unsure.
     */
    plain?: boolean;
    /** The declared result type, when it holds `t.float` (whole numbers go out as floats). */
    floats?: Type;
  }
  | {
    /** The call failed. */
    ok: false;
    /** Why, in the error model. */
    error: ErrorShape;
  };

/** The part of a client a handler needs: calls to other interfaces wherever they live. */
export interface ClientLike {
  /** Calls a method by its full name. */
  call(method: string, params?: unknown, options?: CallOptions): Promise<unknown>;
  /** Sends a notification (no reply). */
  notify(method: string, params?: unknown): Promise<void>;
  /** A typed proxy of an interface. */
  proxy<I extends InterfaceDef>(iface: I): InterfaceProxy<I>;
}

/** A connected peer that can be called back (bidirectional transports). */
export interface PeerLike extends ClientLike {
  /** The peer's identity. */
  readonly id: string;
}

/** What a handler receives besides its parameters. */
export interface CallContext {
  /** The full method name, `Interface.method`. */
  readonly method: string;
  /** The authenticated caller, if any. */
  readonly caller?: Identity;
  /** Absolute deadline (epoch ms), if the caller set one. */
  readonly deadline?: number;
  /** Aborted when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /** A client for calling other interfaces, routed by the deployment. */
  readonly client: ClientLike;
  /** The calling peer, when the transport can call back (TCP). */
  readonly peer?: PeerLike;
  /** The protocol that carried the call. */
  readonly protocol: string;
  /** The wire id of the call, if any. */
  readonly callId?: string | number | null;
  /** The caller's W3C trace context, when it sent one. */
  readonly trace?: TraceCarrier;
}
