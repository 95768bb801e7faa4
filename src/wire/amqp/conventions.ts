/**
 * msgpack-rpc over AMQP 0-9-1 (RabbitMQ): the conventions both ends share. A call is a
 * persistent message `[0, msgid, method, params]` on the durable queue of its interface
 * (`<prefix>.<Interface>`), where any number of workers compete for it; the reply
 * `[1, msgid, error, result]` comes back by RabbitMQ's direct reply-to; the caller's
 * deadline travels as the message's `expiration` and a header; notifications go to the
 * topic exchange `<prefix>.events` with the method as routing key. A message a worker cannot
 * read as a call goes to the durable queue `<prefix>.dead`, with why in a header.
 *
 * @module
 */

import type { AmqpChannel, AmqpProperties } from "./amqplib.ts";
import type { Call, TraceCarrier } from "../../core/context.ts";
import { traceCarrier } from "../../core/client/tracing_hook.ts";

/** Default prefix of queue and exchange names. */
export const DEFAULT_PREFIX = "switchboard";

/** Header carrying the caller's absolute deadline (epoch milliseconds). */
export const DEADLINE_HEADER = "x-switchboard-deadline";

/**
 * Header of a call whose caller reads a streamed result item by item: the credit it grants
 * at once (a positive integer, its window). Without it a stream is answered as one array.
 */
export const STREAM_HEADER = "x-switchboard-stream";

/**
 * Header beside {@linkcode STREAM_HEADER}: after how many ms of silence the caller gives the
 * stream up as cut; the worker sends `$/stream.alive` often enough to stay within it.
 */
export const STREAM_IDLE_HEADER = "x-switchboard-stream-idle";

/** Stream message of a worker that has nothing else to say yet (see `STREAM_IDLE_HEADER`). */
export const STREAM_ALIVE = "$/stream.alive";

/** Cancel message of a call (`[2, "$/cancel", [{ id: <the call's message-id> }]]`). */
export const CALL_CANCEL = "$/cancel";

/**
 * Adds the W3C trace context to a message's headers, under the names the W3C draft for
 * AMQP uses (`traceparent`, `tracestate`).
 */
export function putTrace(headers: Record<string, unknown>, trace: TraceCarrier): void {
  headers.traceparent = trace.traceparent;
  if (trace.tracestate !== undefined) headers.tracestate = trace.tracestate;
}

/** The trace context in a message's headers, if well-formed. */
export function takeTrace(headers: Record<string, unknown> | undefined): TraceCarrier | undefined {
  if (!headers || headers.traceparent === undefined) return undefined;
  // amqplib hands string headers back as strings; a peer may send bytes.
  const text = (v: unknown) => v instanceof Uint8Array ? new TextDecoder().decode(v) : v;
  return traceCarrier(text(headers.traceparent), text(headers.tracestate));
}

/**
 * The headers and TTL a call (or notification) is published with: its absolute deadline as a
 * header (a worker refuses the call unrun after it) and as the message's TTL in ms (the broker
 * drops it unrun; zero or less: already expired), and its trace context.
 */
export function outgoingProperties(
  call: { deadline?: number; trace?: TraceCarrier },
  now = Date.now(),
): { headers: Record<string, unknown>; expiration?: string } {
  const headers: Record<string, unknown> = {};
  let expiration: string | undefined;
  if (call.deadline !== undefined) {
    expiration = String(Math.ceil(call.deadline - now));
    headers[DEADLINE_HEADER] = call.deadline;
  }
  if (call.trace) putTrace(headers, call.trace);
  return { headers, expiration };
}

/**
 * What a call message's properties tell a worker: the deadline, the publishing user (which the
 * broker verified), the trace context and the call id.
 */
export function incomingProperties(
  props: AmqpProperties,
): Pick<Call, "deadline" | "caller" | "trace" | "id"> {
  const found: Pick<Call, "deadline" | "caller" | "trace" | "id"> = {};
  const deadline = Number(props.headers?.[DEADLINE_HEADER]);
  if (Number.isFinite(deadline) && deadline > 0) found.deadline = deadline;
  if (props.userId) found.caller = { id: props.userId };
  const trace = takeTrace(props.headers);
  if (trace) found.trace = trace;
  if (props.messageId) found.id = props.messageId;
  return found;
}

/** Content type of every Switchboard AMQP message body. */
export const CONTENT_TYPE = "application/msgpack";

/** RabbitMQ's direct reply-to pseudo-queue. */
export const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

/** The durable queue serving an interface's calls: `<prefix>.<Interface>`. */
export function callQueue(prefix: string, iface: string): string {
  return `${prefix}.${iface}`;
}

/** The topic exchange notifications travel through: `<prefix>.events`. */
export function eventsExchange(prefix: string): string {
  return `${prefix}.events`;
}

/** Declares an interface's call queue exactly as every peer does (same arguments). */
export async function declareCallQueue(channel: AmqpChannel, queue: string): Promise<void> {
  await channel.assertQueue(queue, { durable: true });
}

/** Declares the notifications exchange exactly as every peer does. */
export async function declareEventsExchange(
  channel: AmqpChannel,
  exchange: string,
): Promise<void> {
  await channel.assertExchange(exchange, "topic", { durable: true });
}

/** The interface part of `Interface.method` (undefined when unqualified). */
export function interfaceOf(method: string): string | undefined {
  const dot = method.lastIndexOf(".");
  return dot > 0 ? method.slice(0, dot) : undefined;
}

/**
 * The topic exchange cancels travel through, `<prefix>.cancel`, routed by interface name:
 * every worker serving the interface hears them, whether the call is running there, still
 * queued, or was never delivered to it.
 */
export function cancelExchange(prefix: string): string {
  return `${prefix}.cancel`;
}

/** Declares the cancel exchange exactly as every peer does. */
export async function declareCancelExchange(
  channel: AmqpChannel,
  exchange: string,
): Promise<void> {
  await channel.assertExchange(exchange, "topic", { durable: true });
}

/** The durable queue of messages no worker could read as a call: `<prefix>.dead`. */
export function deadQueue(prefix: string): string {
  return `${prefix}.dead`;
}

/** Header of a dead message: why the worker could not read it. */
export const DEAD_REASON_HEADER = "x-switchboard-dead-reason";

/** Header of a dead message: the queue (or exchange routing key) it came from. */
export const DEAD_FROM_HEADER = "x-switchboard-dead-from";

/** Declares the dead-letter queue exactly as every peer does. */
export async function declareDeadQueue(channel: AmqpChannel, queue: string): Promise<void> {
  await channel.assertQueue(queue, { durable: true });
}
