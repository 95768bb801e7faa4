/**
 * A client's subscriptions and where each one stands in its topic: the sequence number of
 * the last published call it received, so that after a reconnect it resumes there
 * (`$/subscribe [topic, { since, epoch }]`), drops what it already has, and reports what is
 * gone for good (`$/event.gap`, or a jump in the numbers) to the subscriber's `onGap`.
 *
 * @module
 */

import type { Router } from "../core/router/router.ts";
import type { SubscribeOptions, TopicGap } from "../core/client/transport.ts";

interface Subscription {
  readonly router: Router;
  readonly onGap?: (gap: TopicGap) => void;
  /** The last sequence number received (undefined before the server named one). */
  seq?: number;
  /** The history `seq` belongs to. */
  epoch?: string | null;
}

/** A published call to run, with the handlers of its topic. */
export interface Delivery {
  router: Router;
  method: string;
  params: unknown;
}

/** topic → subscription, with its place in the topic's numbering. */
export class Subscriptions {
  readonly #map = new Map<string, Subscription>();

  get size(): number {
    return this.#map.size;
  }

  keys(): IterableIterator<string> {
    return this.#map.keys();
  }

  set(topic: string, router: Router, options: SubscribeOptions = {}): void {
    this.#map.set(topic, { router, onGap: options.onGap });
  }

  delete(topic: string): boolean {
    return this.#map.delete(topic);
  }

  /**
   * The params of `$/subscribe`: to a Switchboard server, an options object asking for
   * sequence numbers (and resuming after the last one received); plain `[topic]` otherwise.
   */
  request(topic: string, extensions: boolean): unknown[] {
    const sub = this.#map.get(topic);
    if (!extensions || !sub) return [topic];
    return sub.seq === undefined ? [topic, {}] : [topic, { since: sub.seq, epoch: sub.epoch }];
  }

  /** The server's answer to `$/subscribe`: where the numbering stands (if it numbers). */
  subscribed(topic: string, reply: unknown): void {
    const sub = this.#map.get(topic);
    const { seq, epoch } = (reply ?? {}) as { seq?: unknown; epoch?: unknown };
    if (!sub || typeof seq !== "number") return;
    // Calls that arrived before the answer already moved `seq` on.
    sub.seq ??= seq;
    sub.epoch = typeof epoch === "string" ? epoch : null;
  }

  /** An `$/event [topic, method, params, seq?]`: what to run, or undefined (unknown, a duplicate). */
  event(params: unknown): Delivery | undefined {
    const [topic, method, args, seq] = Array.isArray(params) ? params : [];
    const sub = typeof topic === "string" ? this.#map.get(topic) : undefined;
    if (!sub || typeof method !== "string") return undefined;
    if (Number.isSafeInteger(seq)) {
      if (sub.seq !== undefined) {
        if (seq <= sub.seq) return undefined; // replayed, and already received
        if (seq > sub.seq + 1) this.#report(sub, { topic, from: sub.seq + 1, to: seq - 1 });
      }
      sub.seq = seq;
    }
    return { router: sub.router, method, params: args };
  }

  /** An `$/event.gap [topic, from, to]`: published calls this subscriber will never get. */
  gap(params: unknown): void {
    const [topic, from, to] = Array.isArray(params) ? params : [];
    const sub = typeof topic === "string" ? this.#map.get(topic) : undefined;
    if (!sub || !Number.isSafeInteger(from)) return;
    const end = Number.isSafeInteger(to) ? to as number : null;
    // A new history (to unknown): what the server replays next starts its numbering afresh.
    sub.seq = end ?? 0;
    if (end === null) sub.epoch = undefined;
    this.#report(sub, { topic, from, to: end });
  }

  #report(sub: Subscription, gap: TopicGap): void {
    if (sub.onGap) {
      try {
        sub.onGap(gap);
      } catch (error) {
        sub.router.logger.error(`onGap of topic ${gap.topic} threw: ${error}`);
      }
      return;
    }
    sub.router.logger.error(
      `subscription to ${gap.topic} missed published calls ${gap.from}..${
        gap.to ?? "?"
      } (beyond the publisher's replay buffer); pass onGap to handle it`,
    );
  }
}
