/**
 * The publisher's replay buffer: per topic, a sequence number for every published call and
 * the last few of them, so that a subscriber that lost its connection resumes where it left
 * off (`$/subscribe [topic, { since, epoch }]`). Bounded three ways: calls and bytes per
 * topic, and topics (the least recently published goes first). What fell out of the buffer
 * is reported to the subscriber as a gap, never skipped silently.
 *
 * @module
 */

import { pack } from "../wire/msgpackrpc/packer.ts";

/** Bounds of a server's replay buffer (`new Server({ replay: { … } })`). */
export interface ReplayOptions {
  /** Published calls kept per topic (default 1000). */
  messages?: number;
  /** Bytes of params kept per topic, as msgpack (default 1 MiB). */
  bytes?: number;
  /** Topics with a buffer; the least recently published is dropped beyond (default 1000). */
  topics?: number;
}

/** A published call as kept for replay. */
export interface BufferedEvent {
  /** Its sequence number in the topic (1, 2, …). */
  readonly seq: number;
  /** The published method. */
  readonly method: string;
  /** Its params. */
  readonly params: unknown;
  /** The params' size as msgpack (what the byte bound counts). */
  readonly bytes: number;
}

/**
 * What a resuming subscriber gets: a gap first when calls after `since` are gone (`to` is
 * null when the publisher's history restarted: a new epoch), then the buffered calls.
 */
export interface Resume {
  /** Sequence numbers `from`..`to` are gone (`to` null: unknown). */
  gap?: { from: number; to: number | null };
  /** The buffered calls to send, oldest first. */
  events: readonly BufferedEvent[];
}

interface TopicLog {
  seq: number;
  events: BufferedEvent[];
  bytes: number;
}

/**
 * Sequence numbers and bounded history of every topic published through one `Topics`.
 *
 * @example A subscriber resumes after the calls it saw; what fell out is a gap
 * ```ts
 * import assert from "node:assert/strict";
 * import { TopicReplay } from "@switchboard/rpc/server";
 *
 * const replay = new TopicReplay({ messages: 2 });
 * for (const price of [1, 2, 3]) replay.record("prices", "Prices.tick", { price });
 * assert.equal(replay.last("prices"), 3);
 * assert.deepEqual(replay.since("prices", 2, replay.epoch).events.map((e) => e.seq), [3]);
 * assert.deepEqual(replay.since("prices", 0, replay.epoch).gap, { from: 1, to: 1 });
 * ```
 */
export class TopicReplay {
  /** Names this history: sequence numbers of another epoch (a restarted server) mean nothing here. */
  readonly epoch: string = crypto.randomUUID();
  readonly #logs = new Map<string, TopicLog>();
  readonly #messages: number;
  readonly #bytes: number;
  readonly #topics: number;

  /** A buffer within `options`' bounds. */
  constructor(options: ReplayOptions = {}) {
    this.#messages = options.messages ?? 1000;
    this.#bytes = options.bytes ?? 1024 * 1024;
    this.#topics = options.topics ?? 1000;
    for (
      const [name, n] of [["messages", this.#messages], ["bytes", this.#bytes], [
        "topics",
        this.#topics,
      ]] as const
    ) {
      if (!(Number.isSafeInteger(n) && n >= 1)) {
        throw new RangeError(`replay.${name} must be a positive integer, got ${n}`);
      }
    }
  }

  /** Numbers a published call and keeps it; returns its sequence number. */
  record(topic: string, method: string, params: unknown): number {
    let log = this.#logs.get(topic);
    if (log) this.#logs.delete(topic); // re-inserted last: the map is in publish recency order
    else log = { seq: 0, events: [], bytes: 0 };
    this.#logs.set(topic, log);
    if (this.#logs.size > this.#topics) this.#logs.delete(this.#logs.keys().next().value!);
    const bytes = sizeOf(params);
    const event = { seq: ++log.seq, method, params, bytes };
    log.events.push(event);
    log.bytes += bytes;
    while (
      log.events.length > this.#messages || (log.bytes > this.#bytes && log.events.length > 1)
    ) {
      log.bytes -= log.events.shift()!.bytes;
    }
    return event.seq;
  }

  /** The last sequence number of `topic` (0 before its first publish). */
  last(topic: string): number {
    return this.#logs.get(topic)?.seq ?? 0;
  }

  /** What a subscriber that last saw `since` (of `epoch`) missed. */
  since(topic: string, since: number, epoch: unknown): Resume {
    const log = this.#logs.get(topic);
    const events = log?.events ?? [];
    const last = log?.seq ?? 0;
    if (epoch !== this.epoch || since > last) {
      // Another history: nothing after `since` can be vouched for; all that is kept follows.
      return { gap: { from: since + 1, to: null }, events };
    }
    const oldest = events.length ? events[0].seq : last + 1;
    const start = Math.max(0, events.length - (last - since));
    return since + 1 < oldest
      ? { gap: { from: since + 1, to: oldest - 1 }, events }
      : { events: events.slice(start) };
  }
}

function sizeOf(params: unknown): number {
  try {
    return pack(params).byteLength;
  } catch {
    return 0; // not encodable as msgpack: bounded by the message count alone
  }
}
