/**
 * The part of amqplib Switchboard uses (it ships no types; these are checked by the tests),
 * loaded on first use so that nothing else pays for it.
 *
 * @module
 */

/** Message properties, as amqplib reads and writes them. */
export interface AmqpProperties {
  /** Reply destination of a call. */
  replyTo?: string;
  /** Echoed in the reply. */
  correlationId?: string;
  /** Unique id of a call, across clients: the idempotency key. */
  messageId?: string;
  /** The publishing user, verified by the broker. */
  userId?: string;
  /** Per-message time to live in ms, as a decimal string. */
  expiration?: string;
  /** Application headers. */
  headers?: Record<string, unknown>;
  /** Body media type. */
  contentType?: string;
  /** Persist to disk (publish only). */
  persistent?: boolean;
  /** Return unroutable messages to the publisher (publish only). */
  mandatory?: boolean;
}

/** A delivered message. */
export interface AmqpMessage {
  /** The body (a Node Buffer, which is a Uint8Array). */
  content: Uint8Array;
  /** Delivery details. */
  fields: { deliveryTag: number; redelivered: boolean; routingKey: string; exchange: string };
  /** The properties the publisher set. */
  properties: AmqpProperties;
}

/** The channel operations Switchboard uses (amqplib's Channel and ConfirmChannel). */
export interface AmqpChannel {
  /** Declares a queue; "" lets the broker name it. */
  assertQueue(
    queue: string,
    options?: Record<string, unknown>,
  ): Promise<{ queue: string; messageCount: number; consumerCount: number }>;
  /** Declares an exchange. */
  assertExchange(
    exchange: string,
    type: string,
    options?: Record<string, unknown>,
  ): Promise<unknown>;
  /** The ready messages and consumers of a queue that exists (the channel closes if not). */
  checkQueue(
    queue: string,
  ): Promise<{ queue: string; messageCount: number; consumerCount: number }>;
  /** Binds a queue to an exchange. */
  bindQueue(queue: string, exchange: string, pattern: string): Promise<unknown>;
  /** Deletes a queue. */
  deleteQueue(queue: string): Promise<unknown>;
  /** Deletes an exchange. */
  deleteExchange(exchange: string): Promise<unknown>;
  /** Drops a queue's ready messages. */
  purgeQueue(queue: string): Promise<unknown>;
  /** Starts a consumer; `null` is delivered when the broker cancels it. */
  consume(
    queue: string,
    onMessage: (message: AmqpMessage | null) => void,
    options?: Record<string, unknown>,
  ): Promise<{ consumerTag: string }>;
  /** Stops a consumer. */
  cancel(consumerTag: string): Promise<unknown>;
  /** Publishes; the callback runs on the broker's confirm (error on nack). */
  publish(
    exchange: string,
    routingKey: string,
    content: Uint8Array,
    options?: AmqpProperties,
    onConfirm?: (error: unknown) => void,
  ): boolean;
  /** Acknowledges a delivery. */
  ack(message: AmqpMessage): void;
  /** Rejects a delivery. */
  nack(message: AmqpMessage, allUpTo?: boolean, requeue?: boolean): void;
  /** Limits unacknowledged deliveries. */
  prefetch(count: number, global?: boolean): Promise<unknown>;
  /** Closes the channel. */
  close(): Promise<void>;
  /** Events: `close`, `error`, `return`, `drain`. */
  on(event: string, listener: (...args: never[]) => void): unknown;
  /** Once-only listener. */
  once(event: string, listener: (...args: never[]) => void): unknown;
}

/** A connection (amqplib's ChannelModel). */
export interface AmqpConnection {
  /** Opens a channel. */
  createChannel(): Promise<AmqpChannel>;
  /** Opens a channel in confirm mode. */
  createConfirmChannel(): Promise<AmqpChannel>;
  /** Closes the connection. */
  close(): Promise<void>;
  /** Events: `close`, `error`, `blocked`, `unblocked`. */
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** What {@linkcode loadAmqp} returns. */
export interface AmqpLibrary {
  /** Opens a connection (amqplib's `connect`). */
  connect(url: string): Promise<AmqpConnection>;
  /** Wraps bytes as the Node Buffer amqplib requires, without copying. */
  toBuffer(bytes: Uint8Array): Uint8Array;
}

let library: Promise<AmqpLibrary> | undefined;

/** Imports amqplib (and node:buffer) on first use. */
export function loadAmqp(): Promise<AmqpLibrary> {
  library ??= (async () => {
    const [amqplib, { Buffer }] = await Promise.all([import("amqplib"), import("node:buffer")]);
    const lib = ((amqplib as { default?: unknown }).default ?? amqplib) as {
      connect(url: string): Promise<AmqpConnection>;
    };
    return {
      connect: (url: string) => lib.connect(url),
      toBuffer: (bytes: Uint8Array) =>
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    };
  })();
  return library;
}

/** The URL as logs and errors show it: without the password. */
export function redact(url: string | URL): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.href;
}

/**
 * An error amqplib gave (or a connection's close event carried) as text for a message;
 * `fallback` when there is none (a clean close carries nothing).
 */
export function describeError(error: unknown, fallback: string): string {
  if (error instanceof Error) return error.message;
  return error === undefined || error === null ? fallback : String(error);
}

/** Publishes and resolves on the broker's confirm; rejects on nack or a closed channel. */
export function publishConfirmed(
  channel: AmqpChannel,
  exchange: string,
  routingKey: string,
  body: Uint8Array,
  properties: AmqpProperties,
): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      channel.publish(exchange, routingKey, body, properties, (error) => {
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve();
      });
    } catch (error) {
      reject(error);
    }
  });
}
