/**
 * The reserved `$/…` methods of Switchboard's msgpack-rpc: extras both ends understand,
 * which never reach application handlers and never trouble a plain msgpack-rpc peer.
 *
 * | method | kind | what it does |
 * | --- | --- | --- |
 * | `$/hello` `[{ id? }]` | request | names the peer; turns on deadlines, `$/cancel`, heartbeats |
 * | `$/auth.hello` `[]` | request | `{ nonce, schemes }` for the login |
 * | `$/auth.login` `[{ scheme, proof }]` | request | the caller's `Identity` (also the peer id) |
 * | `$/ping` | notification (or request) | heartbeat |
 * | `$/cancel` `[msgid]` | notification | aborts that request's `AbortSignal` |
 * | `$/subscribe` `[topic, { since?, epoch? }?]` | request | this peer receives `$/event`s of a topic (resuming after `since`) |
 * | `$/unsubscribe` `[topic]` | request | stops them |
 * | `$/publish` `[topic, method, params]` | notification | fans out to the topic's subscribers |
 * | `$/event` `[topic, method, params, seq?]` | notification (server → peer) | a published call (`seq` with a replay buffer, Switchboard peers only) |
 * | `$/event.gap` `[topic, from, to]` | notification (server → peer) | calls `from`..`to` are gone from the replay buffer (`to` null: unknown) |
 * | `$/stream.credit` `[{ stream, n }]` | notification (consumer → producer) | `n` more items may come |
 * | `$/stream.cancel` `[{ stream }]` | notification (consumer → producer) | the consumer gave up |
 * | `$/stream.item` `[{ stream, seq, item }]` | notification (producer → consumer) | one item |
 * | `$/stream.end` `[{ stream, count }]` | notification (producer → consumer) | the normal end |
 * | `$/stream.error` `[{ stream, error }]` | notification (producer → consumer) | the stream failed |
 *
 * A streamed result's request is answered `{ "$stream": id }` (see docs/wire.md, Streams).
 *
 * @module
 */

/** Reserved request: introduces a Switchboard peer (`[{ id? }]`). */
export const HELLO = "$/hello";
/** Reserved notification: a heartbeat (any received message also counts as one). */
export const PING = "$/ping";
/** Reserved notification `[msgid]`: the caller gave up on its request `msgid`. */
export const CANCEL = "$/cancel";
/** Reserved request `[topic]`: deliver the topic's events to this connection. */
export const SUBSCRIBE = "$/subscribe";
/** Reserved request `[topic]`: stop delivering the topic's events. */
export const UNSUBSCRIBE = "$/unsubscribe";
/** Reserved notification `[topic, method, params]`: publish a call to a topic. */
export const PUBLISH = "$/publish";
/** Reserved notification `[topic, method, params, seq?]` (server → peer): a published call. */
export const EVENT = "$/event";
/** Reserved notification `[topic, from, to]` (server → peer): published calls lost to a resuming subscriber. */
export const EVENT_GAP = "$/event.gap";

// The stream notifications, the same on every transport (their params: `[{ stream, … }]` here).
export {
  STREAM_CANCEL,
  STREAM_CREDIT,
  STREAM_END,
  STREAM_ERROR,
  STREAM_ITEM,
} from "../stream_notifications.ts";

/** Whether a method name is reserved for the protocol (`$/…`). */
export function isReserved(method: string): boolean {
  return method.startsWith("$/");
}
