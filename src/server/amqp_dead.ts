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
