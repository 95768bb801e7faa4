/**
 * What an AMQP worker does with one delivery: reads it as a msgpack-rpc call (or dead-letters
 * it), runs it through the router, publishes the reply and only then acknowledges the call, on
 * the same channel, so the broker has the reply before the ack. When the channel is gone
 * before the ack, nothing is acknowledged and the broker hands the call out again.
 *
 * @module
 */

import {
  callQueue,
  CONTENT_TYPE,
  incomingProperties,
  interfaceOf,
  STREAM_HEADER,
  STREAM_IDLE_HEADER,
} from "../wire/amqp/conventions.ts";
import { type AmqpChannel, type AmqpMessage, describeError } from "../wire/amqp/amqplib.ts";
import {
  decodeMessage,
  encodeOutcome,
  MalformedMessageError,
  type NotificationMessage,
  type RequestMessage,
} from "../wire/msgpackrpc/codec.ts";
import { deadLetter, DeadLetterLog } from "./amqp_dead.ts";
import type { Dedupe } from "./amqp_dedupe.ts";
import type { AmqpCancels } from "./amqp_cancel.ts";
import type { AmqpStreams } from "./amqp_streams.ts";
import { OpenStream } from "../core/stream/open_stream.ts";
import type { Call, Outcome } from "../core/context.ts";
import { rpcError, unencodable } from "../core/errors.ts";
import type { Logger, Router } from "../core/router/router.ts";

/** What {@linkcode AmqpCalls} needs of its worker. */
export interface AmqpCallsOptions {
  /** Where calls run. */
  router: Router;
  /** Prefix of queue names (for "not found" messages). */
  prefix: string;
  /** The dead-letter queue. */
  dead: string;
  /** Which methods this listener exposes (all when absent). */
  expose?: (method: string) => boolean;
  /** At-most-once for idempotent methods (none when absent). */
  dedupe?: Dedupe;
  /** Cancels heard from callers. */
  cancels: AmqpCancels;
  /** Where trouble is reported. */
  logger: Logger;
}

/** The worker connection a delivery came on. */
export interface AmqpCallSession {
  /** Its channel (replies and acks go there). */
  channel: AmqpChannel;
  /** Wraps bytes as the Node Buffer amqplib requires. */
  toBuffer: (bytes: Uint8Array) => Uint8Array;
  /** The streams this connection produces. */
  streams: AmqpStreams;
}

/** Runs the deliveries of one worker. */
export class AmqpCalls {
  readonly #options: AmqpCallsOptions;
  readonly #deadLog: DeadLetterLog;
  /** Cancels heard from callers (the worker's control queue feeds them). */
  readonly cancels: AmqpCancels;

  /** Runs calls as `options` say. */
  constructor(options: AmqpCallsOptions) {
    this.#options = options;
    this.cancels = options.cancels;
    this.#deadLog = new DeadLetterLog((m) => options.logger.warn(m), options.dead);
  }

  /**
   * One delivery from the queue of `iface` (undefined: the notifications queue): decode,
   * dispatch, reply, then ack.
   */
  async handle(
    session: AmqpCallSession,
    delivery: AmqpMessage,
    iface: string | undefined,
  ): Promise<void> {
    const { channel, toBuffer } = session;
    let request: RequestMessage | NotificationMessage;
    try {
      const message = decodeMessage(delivery.content);
      if (message.type === 1) throw new Error("a response is not a call");
      request = message;
    } catch (error) {
      // A poison message would come back forever if requeued: it goes where it can be seen.
      const reason = describeError(error, "unreadable");
      this.#deadLog.report(delivery.fields.routingKey, reason);
      deadLetter(channel, delivery, reason, {
        queue: this.#options.dead,
        msgid: error instanceof MalformedMessageError ? error.msgid : undefined,
        toBuffer,
      });
      return;
    }
    const call = callOf(request, delivery, iface);
    if (request.type === 2) {
      call.notification = true;
      await this.#dispatch(call, iface);
      settle(() => channel.ack(delivery));
      return;
    }
    const replyTo = delivery.properties.replyTo;
    const credit = replyTo ? streamCredit(delivery) : undefined;
    if (credit !== undefined) call.stream = true;
    // A call with an id can be cancelled by its caller, before it runs or while it runs.
    const cancellable = typeof call.id === "string"
      ? this.#options.cancels.begin(call.id)
      : undefined;
    if (typeof call.id === "string" && !cancellable) {
      settle(() => channel.ack(delivery));
      return;
    }
    if (cancellable) call.signal = cancellable.signal;
    let outcome: Outcome;
    try {
      const dispatch = () => this.#dispatch(call, iface);
      outcome = await (this.#options.dedupe?.run(call, dispatch) ?? dispatch());
    } finally {
      cancellable?.done();
    }
    if (outcome.ok && outcome.value instanceof OpenStream) {
      this.#stream(session, delivery, request.msgid, outcome.value, credit!);
      return;
    }
    if (replyTo) {
      let body: Uint8Array;
      try {
        body = encodeOutcome(request.msgid, outcome);
      } catch (error) {
        body = encodeOutcome(request.msgid, {
          ok: false,
          error: unencodable("the result", "msgpack", error),
        });
        this.#options.logger.error(
          `amqp: cannot encode the result of ${call.method}: ${describeError(error, "")}`,
        );
      }
      try {
        // Frames of one channel are handled in order: the broker has the reply before it
        // sees the ack, so waiting for a confirm here would add latency, not safety.
        channel.publish("", replyTo, toBuffer(body), {
          correlationId: delivery.properties.correlationId,
          contentType: CONTENT_TYPE,
        });
      } catch {
        // The channel is gone: no ack either, so the broker redelivers the call.
        return;
      }
    }
    settle(() => channel.ack(delivery));
  }

  /**
   * A streamed result: the handle is the reply; once it is published the call is
   * acknowledged (a worker that dies later cuts the stream, which its caller detects, rather
   * than the broker running the call again for nobody) and the items follow.
   */
  #stream(
    session: AmqpCallSession,
    delivery: AmqpMessage,
    msgid: number,
    open: OpenStream,
    credit: number,
  ): void {
    const { channel, toBuffer, streams } = session;
    const { replyTo, correlationId } = delivery.properties;
    const idle = Number(delivery.properties.headers?.[STREAM_IDLE_HEADER]);
    const taken = streams.produce(open, {
      replyTo: replyTo!,
      correlationId,
      idleMs: Number.isFinite(idle) && idle > 0 ? idle : undefined,
    }, credit);
    const outcome: Outcome = "error" in taken
      ? { ok: false, error: taken.error }
      : { ok: true, value: taken.handle };
    try {
      channel.publish("", replyTo!, toBuffer(encodeOutcome(msgid, outcome)), {
        correlationId,
        replyTo: streams.control,
        contentType: CONTENT_TYPE,
      });
    } catch {
      // The channel is gone (the stream with it): the broker redelivers the call.
      open.stop(rpcError("Unavailable", "the worker lost its connection"));
      return;
    }
    settle(() => channel.ack(delivery));
    if (!("error" in taken)) taken.start();
  }

  #dispatch(call: Call, iface?: string): Promise<Outcome> {
    if (iface !== undefined && interfaceOf(call.method) !== iface) {
      return Promise.resolve({
        ok: false,
        error: rpcError(
          "MethodNotFound",
          `Method not found: ${call.method} (queue ${callQueue(this.#options.prefix, iface)})`,
        ).toShape(),
      });
    }
    const expose = this.#options.expose;
    return this.#options.router.dispatch(expose ? { ...call, expose } : call);
  }
}

/** The call a request and its message's properties make (identity, deadline, trace, id). */
function callOf(
  request: RequestMessage | NotificationMessage,
  delivery: AmqpMessage,
  iface: string | undefined,
): Call {
  const method = iface !== undefined && !request.method.includes(".")
    ? `${iface}.${request.method}`
    : request.method;
  const call: Call = {
    method,
    params: request.params,
    protocol: "amqp",
    ...incomingProperties(delivery.properties),
  };
  if (call.id === undefined && request.type === 0) call.id = request.msgid;
  return call;
}

/** Most credit a caller may grant at once in its stream header. */
const MAX_INITIAL_CREDIT = 65_536;

/** The credit a call's stream header grants, or undefined when it asks for no stream. */
function streamCredit(delivery: AmqpMessage): number | undefined {
  const asked = delivery.properties.headers?.[STREAM_HEADER];
  if (asked === undefined) return undefined;
  const n = Number(asked);
  return Number.isSafeInteger(n) && n > 0 ? Math.min(n, MAX_INITIAL_CREDIT) : undefined;
}

/** Runs an ack, which throws when the channel has closed (the broker redelivers). */
function settle(step: () => void): void {
  try {
    step();
  } catch {
    // Channel closed: nothing to settle any more.
  }
}
