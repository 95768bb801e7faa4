/**
 * Publish–subscribe over server-sent events: `GET /events?topic=a&topic=b` streams what is
 * published to those topics as `text/event-stream`, for `EventSource` and `curl -N`. It
 * follows the server's shared `Topics`, the table TCP and WebSocket subscribers are in, so
 * one publish reaches subscribers on every transport (see docs/wire.md, "Streams").
 *
 * - Each published call is one event, `data: {"topic","method","params","seq"}`. With a
 *   replay buffer (`new Server({ replay })`) it carries `id: <epoch>:<seq of each topic>`
 *   (in the order of the URL's topics), and the stream opens with an event-less `id:` of the
 *   positions now; an `EventSource` that reconnects sends the last one as `Last-Event-ID`
 *   and gets what it missed, or `event: gap` for what the buffer no longer holds (never a
 *   silent hole). Without one, a reconnect gets `event: gap` `{from: null, to: null}` per
 *   topic: calls may have been missed, which is unknown.
 * - A reader that falls behind by more than `maxUnsentBytes` is unsubscribed and its stream
 *   closed after what it has not read yet (logged): memory stays bounded, and its
 *   `EventSource` reconnects and resumes from what it did read.
 * - A `: ping` comment every `heartbeatMs` keeps proxies from closing a quiet stream.
 *
 * @module
 */

import { taggingReplacer } from "../core/idl/tagged.ts";
import { errorShape } from "../core/errors.ts";
import type { Logger } from "../core/router/router.ts";
import { encodeError } from "../wire/jsonrpc/codec.ts";
import { EVENT, EVENT_GAP } from "../wire/msgpackrpc/reserved.ts";
import type { HttpAuthenticator } from "../auth/http_authenticator.ts";
import type { HttpEnv } from "./http_env.ts";
import type { OpenBodies } from "./http_open_bodies.ts";
import type { Subscriber, Topics } from "./tcp_pubsub.ts";

/** Options of `GET /events` (the `events` option of the HTTP app). */
export interface EventStreamOptions {
  /** Topics one stream follows (default 64); more are refused 400. */
  maxTopics?: number;
  /**
   * Bytes of events a stream may hold unread (default 1 MiB); a reader further behind is
   * unsubscribed, and its stream closed once it has read what is held.
   */
  maxUnsentBytes?: number;
  /** Interval of the `: ping` comments in ms (default 15 s; 0 sends none). */
  heartbeatMs?: number;
}

/** What the route needs of the app. */
export interface EventRouteParts {
  topics: Topics;
  bodies: OpenBodies;
  logger: Logger;
  authenticate?: HttpAuthenticator;
}

/** Default of {@linkcode EventStreamOptions.maxUnsentBytes}. */
export const DEFAULT_MAX_UNSENT_EVENT_BYTES = 1024 * 1024;
/** Default of {@linkcode EventStreamOptions.heartbeatMs}. */
export const DEFAULT_EVENT_HEARTBEAT_MS = 15_000;

const encoder = new TextEncoder();

function badRequest(message: string): Response {
  return new Response(encodeError(null, errorShape("InvalidRequest", message)), {
    status: 400,
    headers: { "content-type": "application/json" },
  });
}

/** The positions a `Last-Event-ID` names: its epoch and a sequence number per topic. */
function parsePositions(
  id: string,
  count: number,
): { epoch: string; seqs: number[] } | undefined {
  const colon = id.lastIndexOf(":");
  if (colon < 0) return undefined;
  const seqs = id.slice(colon + 1).split(",").map(Number);
  if (seqs.length !== count || !seqs.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    return undefined;
  }
  return { epoch: id.slice(0, colon), seqs };
}

/** The handler of `GET /events` (see the module doc). */
export function eventsRoute(
  options: EventStreamOptions,
  parts: EventRouteParts,
): (request: Request, env: HttpEnv | undefined) => Promise<Response> {
  const maxTopics = options.maxTopics ?? 64;
  const maxUnsent = options.maxUnsentBytes ?? DEFAULT_MAX_UNSENT_EVENT_BYTES;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_EVENT_HEARTBEAT_MS;
  const { topics, bodies, logger, authenticate } = parts;

  return async (request, env) => {
    const url = new URL(request.url);
    const names = [...new Set(url.searchParams.getAll("topic"))];
    if (names.length === 0 || names.some((t) => t === "")) {
      return badRequest("Invalid Request: name the topics to follow: GET /events?topic=a&topic=b");
    }
    if (names.length > maxTopics) {
      return badRequest(
        `Invalid Request: ${names.length} topics; one event stream follows at most ${maxTopics}`,
      );
    }
    if (authenticate) {
      const verdict = await authenticate(request, {
        peer: env?.remoteAddr?.hostname,
        listener: env?.listener,
      });
      if (verdict instanceof Response) return verdict;
    }
    const remote = env?.remoteAddr?.hostname ?? "a client";
    const lastId = request.headers.get("last-event-id");
    const replay = topics.replay;

    let body!: ReadableStreamDefaultController<Uint8Array>;
    let closed = false;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let over = () => {};
    // Where each topic's reader is: what a reconnect resumes from.
    const positions = new Map<string, number>();
    const idLine = () =>
      replay ? `id: ${replay.epoch}:${names.map((t) => positions.get(t) ?? 0).join(",")}\n` : "";

    // `close`: the body is closed after what it holds (not when the client went away).
    const end = (close: boolean) => {
      if (closed) return;
      closed = true;
      topics.drop(subscriber);
      if (heartbeat !== undefined) clearInterval(heartbeat);
      if (close) body.close();
      over();
    };
    const write = (text: string) => {
      if (closed) return;
      body.enqueue(encoder.encode(text));
      const held = maxUnsent - (body.desiredSize ?? 0);
      if (held > maxUnsent) {
        logger.warn(
          `http events: ${remote} does not read its event stream: ${held} bytes unsent ` +
            `(limit ${maxUnsent}); unsubscribed, stream closed`,
        );
        end(true);
      }
    };
    const subscriber: Subscriber = {
      get open() {
        return !closed;
      },
      extensions: true,
      notify(method, params) {
        const [topic, a, b, seq] = params as [string, unknown, unknown, number | undefined];
        if (method === EVENT) {
          if (typeof seq === "number") positions.set(topic, seq);
          const data = JSON.stringify({ topic, method: a, params: b, seq }, taggingReplacer);
          write(`${idLine()}data: ${data}\n\n`);
        } else if (method === EVENT_GAP) {
          write(`event: gap\ndata: ${JSON.stringify({ topic, from: a, to: b })}\n\n`);
        }
      },
    };

    const start = () => {
      const resume = lastId === null || !replay ? undefined : parsePositions(lastId, names.length);
      // Positions first, so that an id sent while the topics are replayed never points
      // before what the reader has (topics of another history start from nothing).
      names.forEach((topic, i) => {
        const same = resume?.epoch === replay?.epoch;
        positions.set(topic, resume ? (same ? resume.seqs[i] : 0) : replay?.last(topic) ?? 0);
      });
      for (const [i, topic] of names.entries()) {
        if (lastId !== null && !replay) {
          write(`event: gap\ndata: ${JSON.stringify({ topic, from: null, to: null })}\n\n`);
        }
        const since = lastId === null ? undefined : resume ? resume.seqs[i] : 0;
        const reply = topics.subscribeRequest(
          subscriber,
          [topic, since === undefined || !replay ? {} : { since, epoch: resume?.epoch }],
          maxTopics,
        );
        if (reply !== true && reply.seq !== null) positions.set(topic, reply.seq);
      }
      // An event-less id: a reconnect resumes from here even before the first event.
      write(replay ? `${idLine()}\n` : "id: live\n\n");
      if (heartbeatMs > 0) heartbeat = setInterval(() => write(": ping\n\n"), heartbeatMs);
    };

    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        body = controller;
        start();
      },
      cancel: () => end(false),
    }, { highWaterMark: maxUnsent, size: (chunk) => chunk.byteLength });
    const response = new Response(stream, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      },
    });
    over = bodies.hold(response, () => end(true));
    if (closed) over(); // dropped while it replayed, before it was held
    return response;
  };
}
