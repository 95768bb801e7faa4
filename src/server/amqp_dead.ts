/**
 * What an AMQP worker does with a message it cannot read as a call (not msgpack, not a
 * msgpack-rpc request or notification): it must neither requeue it (it would come back
 * forever) nor drop it unseen. The caller, when it said where to reply, gets an
 * `InvalidRequest` error at once; the message itself goes, unchanged, to the durable queue
 * `<prefix>.dead` with why in `x-switchboard-dead-reason` (and where it came from in
 * `x-switchboard-dead-from`), to be inspected; then the original is acknowledged.
 *
 * @module
 */

import type { AmqpChannel, AmqpMessage } from "../wire/amqp/amqplib.ts";
import { CONTENT_TYPE, DEAD_FROM_HEADER, DEAD_REASON_HEADER } from "../wire/amqp/conventions.ts";
import { encodeOutcome } from "../wire/msgpackrpc/codec.ts";
import { errorShape } from "../core/errors.ts";

/**
 * Answers (when it can) and dead-letters `delivery`, then acknowledges it. Returns false when
 * the channel is gone: nothing was acknowledged, and the broker hands the message out again.
 */
export function deadLetter(
  channel: AmqpChannel,
  delivery: AmqpMessage,
  reason: string,
  options: { queue: string; msgid?: number; toBuffer(bytes: Uint8Array): Uint8Array },
): boolean {
  const props = delivery.properties;
  try {
    if (props.replyTo) {
      // The caller matches replies by msgid; when the body gave none, its correlation id
      // (a Switchboard client's msgid) stands in.
      const correlated = Number(props.correlationId);
      const msgid = options.msgid ?? (Number.isSafeInteger(correlated) ? correlated : 0);
      const reply = encodeOutcome(msgid, {
        ok: false,
        error: errorShape("InvalidRequest", `Invalid Request: ${reason}`),
      });
      channel.publish("", props.replyTo, options.toBuffer(reply), {
        correlationId: props.correlationId,
        contentType: CONTENT_TYPE,
      });
    }
    channel.publish("", options.queue, delivery.content, {
      persistent: true,
      contentType: props.contentType,
      messageId: props.messageId,
      correlationId: props.correlationId,
      headers: {
        ...props.headers,
        [DEAD_REASON_HEADER]: reason,
        [DEAD_FROM_HEADER]: delivery.fields.routingKey,
      },
    });
    // Same channel, in order: the broker has the dead copy before it sees the ack.
    channel.ack(delivery);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reports dead-lettered messages to a logger: the first at once, then a count at most once a
 * second, so a flood of poison messages cannot flood the log.
 */
export class DeadLetterLog {
  readonly #warn: (message: string) => void;
  readonly #queue: string;
  /** Dead-lettered messages not yet reported, and when the last report went out. */
  #unreported = 0;
  #reportedAt = 0;

  /** Reports through `warn` the messages moved to `queue`. */
  constructor(warn: (message: string) => void, queue: string) {
    this.#warn = warn;
    this.#queue = queue;
  }

  /** Counts a message from `from` dead-lettered for `reason`; reports when a second has passed. */
  report(from: string, reason: string): void {
    this.#unreported++;
    const now = Date.now();
    if (now - this.#reportedAt < 1000) return;
    const more = this.#unreported > 1 ? ` (and ${this.#unreported - 1} more)` : "";
    this.#warn(
      `amqp: a message from ${from} is no call (${reason}); moved to ${this.#queue}${more}`,
    );
    this.#unreported = 0;
    this.#reportedAt = now;
  }
}
