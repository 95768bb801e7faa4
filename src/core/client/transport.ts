/**
 * What a client transport does: carry calls and bring back outcomes. `connect()` picks
 * one by URL scheme; the `Client` API is the same for all.
 *
 * @module
 */

import type { Outcome, TraceCarrier } from "../context.ts";
import type { Implementation } from "../implement.ts";
import type { Fields } from "../idl/types.ts";

/** A call on its way out. */
export interface OutgoingCall {
  /** `Interface.method`. */
  method: string;
  /** By name (object) or by position (array). */
  params?: unknown;
  /** Absolute deadline (epoch ms) the server should honour. */
  deadline?: number;
  /** Aborted when the caller gives up (timeout or cancellation). */
  signal?: AbortSignal;
  /** In a batch: send as a notification (its outcome is `{ ok: true, value: undefined }`). */
  notification?: boolean;
  /**
   * The declared params, in order, when a typed proxy made the call: XML-RPC sends named
   * params by position in this order, each written by its type (a `t.float` 3 as `<double>`).
   */
  declared?: Fields;
  /** The W3C trace context to send with it (set by the client when tracing is installed). */
  trace?: TraceCarrier;
  /** The call may safely run twice: a balancing transport may retry or hedge it. */
  idempotent?: boolean;
  /**
   * A typed proxy reads the result as a stream (`t.stream`): a transport that can ask for it
   * item by item (JSON-RPC over HTTP: NDJSON) does; the outcome's value is then a stream.
   */
  stream?: boolean;
}

/** Published calls a subscriber will never get: they fell out of the publisher's replay buffer. */
export interface TopicGap {
  /** The topic. */
  readonly topic: string;
  /** The first missing sequence number. */
  readonly from: number;
  /** The last missing one; null when unknown (the publisher restarted: a new history). */
  readonly to: number | null;
}

/** Options of a subscription. */
export interface SubscribeOptions {
  /**
   * Told of published calls missed for good (the connection was down longer than the
   * publisher's replay buffer reaches); without it, the gap is logged as an error.
   */
  onGap?: (gap: TopicGap) => void;
}

/** A client transport. Transport failures reject with an `RpcError` (e.g. `Unavailable`). */
export interface Transport {
  /**
   * The OpenTelemetry `rpc.system` a call of `method` travels as (`jsonrpc`, `xmlrpc`,
   * `msgpack-rpc`), for its client span; undefined (or absent): no client span (in-process).
   */
  rpcSystem?(method: string): string | undefined;
  /** Sends a call and resolves with its outcome. */
  call(request: OutgoingCall): Promise<Outcome>;
  /** Sends a notification; resolves once it has been handed to the wire. */
  notify(request: OutgoingCall): Promise<void>;
  /** Sends several calls at once where the protocol can (JSON-RPC batches). */
  batch?(requests: OutgoingCall[]): Promise<Outcome[]>;
  /** Serves an implementation to the other side (bidirectional transports only). */
  register?(impl: Implementation): void;
  /** Publishes a call to a topic; every subscriber runs it (pub-sub transports only). */
  publish?(topic: string, method: string, params?: unknown): Promise<void>;
  /** Runs `impl` for every call published to `topic` (pub-sub transports only). */
  subscribe?(topic: string, impl: Implementation, options?: SubscribeOptions): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
