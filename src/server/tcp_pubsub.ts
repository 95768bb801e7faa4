/**
 * Publish–subscribe of a server: topics peers subscribed to over `$/subscribe` (on any
 * bidirectional transport: TCP, WebSocket), topics served in this process, and the fan-out
 * of a published call to all of them. A `Server` shares one table among its listeners, so a
 * topic's subscribers on every transport receive the same calls. A topic lives while it has
 * subscribers; a connection's subscriptions die with it, and each connection holds at most
 * `maxTopics` of them, so the tables are bounded by the open connections.
 *
 * @module
 */

import type { Call, Identity } from "../core/context.ts";
import type { Implementation } from "../core/implement.ts";
import { rpcError } from "../core/errors.ts";
import { Router } from "../core/router/router.ts";
import { EVENT, EVENT_GAP } from "../wire/msgpackrpc/reserved.ts";
import { type ReplayOptions, TopicReplay } from "./topic_replay.ts";

/** A published call handed on: to another listener's subscribers, or to this one's. */
export type TopicDelivery = (
  topic: string,
  method: string,
  params: unknown,
  caller?: Identity,
) => void;

/** Default cap on the topics one connection subscribes to. */
export const DEFAULT_MAX_TOPICS = 1000;

/** A subscribed connection of any transport: what a published call is sent over. */
export interface Subscriber {
  /** Whether the connection is open. */
  readonly open: boolean;
  /** Whether the peer is a Switchboard peer (said `$/hello`): it gets sequence numbers. */
  readonly extensions?: boolean;
  /** Sends a notification to the peer. */
  notify(method: string, params: unknown): void;
}

/** What a Switchboard subscriber gets back from `$/subscribe [topic, {…}]`. */
export interface SubscribeReply {
  /** The topic's last sequence number (null without a replay buffer). */
  seq: number | null;
  /** The publisher's history this numbering belongs to. */
  epoch: string | null;
}

/**
 * Topic tables and the fan-out of published calls.
 *
 * @example A connection and an in-process handler follow one topic
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { Router, type Subscriber, Topics } from "@switchboard/rpc/server";
 *
 * const Prices = defineInterface("Prices", { tick: method({ params: { price: t.float } }) });
 * const topics = new Topics(new Router());
 * const seen: number[] = [];
 * topics.subscribe("prices", implement(Prices, { tick: ({ price }) => void seen.push(price) }));
 * const sent: unknown[] = [];
 * const peer: Subscriber = { open: true, notify: (method, params) => sent.push([method, params]) };
 * topics.add(peer, "prices");
 *
 * assert.equal(await topics.publish("prices", "Prices.tick", { price: 1.5 }), 2);
 * assert.deepEqual(seen, [1.5]);
 * assert.equal(sent.length, 1);
 * topics.drop(peer);
 * assert.equal(topics.size, 0);
 * ```
 */
export class Topics {
  /** topic → subscribed connections. */
  readonly #remote = new Map<string, Set<Subscriber>>();
  /** topic → in-process subscribers. */
  readonly #local = new Map<string, Set<Router>>();
  /** connection → its topics. */
  readonly #bySession = new Map<Subscriber, Set<string>>();
  readonly #router: Router;
  readonly #maxTopics: number;
  /** Where this listener's publishes go besides its own subscribers (other workers). */
  relay?: TopicDelivery;

  /** Sequence numbers and recent history per topic, when the server keeps a replay buffer. */
  readonly replay?: TopicReplay;

  /**
   * `router` gives in-process subscribers their logger and client; `replay` turns on the
   * replay buffer (off by default).
   */
  constructor(router: Router, maxTopics = DEFAULT_MAX_TOPICS, replay?: ReplayOptions) {
    this.#router = router;
    this.#maxTopics = maxTopics;
    if (replay) this.replay = new TopicReplay(replay);
  }

  /**
   * A peer's `$/subscribe [topic, { since?, epoch? }?]`: subscribes it, and when it resumes
   * (`since`) sends it what it missed from the replay buffer, or a `$/event.gap` first for
   * what is gone. Answers `true` to the plain form, a {@linkcode SubscribeReply} to the other.
   */
  subscribeRequest(
    session: Subscriber,
    params: unknown[],
    maxTopics?: number,
  ): true | SubscribeReply {
    const [topic, options] = params;
    if (typeof topic !== "string") throw rpcError("InvalidParams", "expected [topic, options?]");
    const resume = options as { since?: unknown; epoch?: unknown } | null | undefined;
    const since = resume?.since;
    if (
      since !== undefined && since !== null &&
      !(Number.isSafeInteger(since) && since as number >= 0)
    ) {
      throw rpcError("InvalidParams", "since must be a sequence number (an integer >= 0)");
    }
    this.add(session, topic, maxTopics);
    if (typeof resume !== "object" || resume === null) return true;
    const replay = this.replay;
    if (!replay) return { seq: null, epoch: null };
    if (typeof since === "number") {
      // Sent before any later publish can interleave: the replay and the live stream join up.
      const { gap, events } = replay.since(topic, since, resume.epoch);
      if (gap) session.notify(EVENT_GAP, [topic, gap.from, gap.to]);
      for (const e of events) session.notify(EVENT, [topic, e.method, e.params ?? [], e.seq]);
    }
    return { seq: replay.last(topic), epoch: replay.epoch };
  }

  /**
   * A connection subscribes to `topic`; refused beyond `maxTopics` (default: the table's) of
   * them.
   */
  add(session: Subscriber, topic: string, maxTopics: number = this.#maxTopics): void {
    let mine = this.#bySession.get(session);
    if (!mine) this.#bySession.set(session, mine = new Set());
    if (!mine.has(topic) && mine.size >= maxTopics) {
      throw rpcError(
        "Overloaded",
        `too many subscriptions on this connection (limit ${maxTopics})`,
      );
    }
    mine.add(topic);
    setOf(this.#remote, topic).add(session);
  }

  /** A connection unsubscribes from `topic`. */
  remove(session: Subscriber, topic: string): void {
    const mine = this.#bySession.get(session);
    mine?.delete(topic);
    if (mine?.size === 0) this.#bySession.delete(session);
    deleteFrom(this.#remote, topic, session);
  }

  /** A connection closed: its subscriptions go, and topics nobody else follows. */
  drop(session: Subscriber): void {
    const mine = this.#bySession.get(session);
    if (!mine) return;
    this.#bySession.delete(session);
    for (const topic of mine) deleteFrom(this.#remote, topic, session);
  }

  /** How many topics have remote subscribers (for tests and metrics). */
  get size(): number {
    return this.#remote.size;
  }

  /** Serves a topic's published calls with `impl` in this process; returns an unsubscribe. */
  subscribe(topic: string, impl: Implementation): () => void {
    // Handlers reach other interfaces through the server's own client, looked up when used.
    const router = new Router({
      logger: this.#router.logger,
      clientFor: () => this.#router.client,
    });
    router.register(impl);
    setOf(this.#local, topic).add(router);
    return () => deleteFrom(this.#local, topic, router);
  }

  /**
   * Publishes a call to a topic's subscribers, here and through the relay; resolves with how
   * many received it here.
   */
  publish(topic: string, method: string, params: unknown, caller?: Identity): Promise<number> {
    this.relay?.(topic, method, params, caller);
    return this.deliver(topic, method, params, caller);
  }

  /** Hands a published call to this listener's own subscribers (see {@linkcode publish}). */
  async deliver(
    topic: string,
    method: string,
    params: unknown,
    caller?: Identity,
  ): Promise<number> {
    let count = 0;
    const seq = this.replay?.record(topic, method, params);
    for (const session of this.#remote.get(topic) ?? []) {
      if (!session.open) continue;
      try {
        // Plain peers keep the plain three-element shape.
        session.notify(
          EVENT,
          seq !== undefined && session.extensions
            ? [topic, method, params ?? [], seq]
            : [topic, method, params ?? []],
        );
        count++;
      } catch {
        // closed meanwhile
      }
    }
    const local = [...this.#local.get(topic) ?? []];
    count += local.length;
    await Promise.all(local.map((router) => {
      const call: Call = { method, params, notification: true, protocol: "msgpack-rpc" };
      if (caller) call.caller = caller;
      return router.dispatch(call);
    }));
    return count;
  }
}

function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) map.set(key, set = new Set());
  return set;
}

/** Removes `value` from `key`'s set, and the key once its set is empty. */
function deleteFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
