/**
 * What the WebSocket stream tests share: a Feed server with a WebSocket listener, and raw
 * clients that speak JSON-RPC over WebSocket by hand (one that reads, one that never does).
 */
import assert from "node:assert/strict";
import { Server, type ServerOptions } from "../../server.ts";
import type { WebSocketOptions } from "../../src/server/ws.ts";
import { defineSlowSum, feedImpl, feedProbe } from "../fixtures/feed.ts";

/** A server of Feed (and SlowSum) on a WebSocket listener. */
export async function feedWsServer(ws: WebSocketOptions = {}, options: ServerOptions = {}) {
  const probe = feedProbe();
  const slow = defineSlowSum();
  const server = new Server({ logger: { error: () => {}, warn: () => {} }, ...options });
  server.register(feedImpl(probe));
  server.register(slow.impl);
  const http = await server.listenHttp({ port: 0 }, { websocket: ws });
  const url = http.url.replace("http", "ws");
  return { probe, slow, server, http, url, close: () => server.close() };
}

/** `promise`, or a failure after `ms` (a test never hangs on a producer that did not end). */
export function within<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not settled after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** One JSON-RPC message as a raw client sees it. */
// deno-lint-ignore no-explicit-any
export type Message = any;

/** A raw JSON-RPC-over-WebSocket client: it sends what it is told and keeps what comes. */
export async function rawWs(url: string) {
  const socket = new WebSocket(url);
  const inbox: Message[] = [];
  let wake: (() => void) | undefined;
  const closed = Promise.withResolvers<number>();
  socket.onmessage = (event) => {
    inbox.push(JSON.parse(event.data));
    wake?.();
  };
  socket.onclose = (event) => {
    closed.resolve(event.code);
    wake?.();
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let read = 0;
  const raw = {
    inbox,
    closed: closed.promise,
    send: (...messages: unknown[]) => {
      for (const m of messages) socket.send(JSON.stringify(m));
    },
    /** The next message not read yet (fails after `ms`). */
    async next(ms = 10_000): Promise<Message> {
      const deadline = Date.now() + ms;
      while (read >= inbox.length) {
        if (socket.readyState === WebSocket.CLOSED) throw new Error("closed by the server");
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no message after ${ms} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return inbox[read++];
    },
    /** Says `$/hello` (a Switchboard peer from now on). */
    async hello(): Promise<void> {
      raw.send({ jsonrpc: "2.0", id: 0, method: "$/hello", params: [{}] });
      const reply = await raw.next();
      assert.equal(reply.id, 0);
      assert.ok(reply.result, JSON.stringify(reply));
    },
    async close(): Promise<void> {
      if (socket.readyState !== WebSocket.CLOSED) {
        socket.close();
        await within(closed.promise).catch(() => {});
      }
    },
  };
  return raw;
}

/**
 * A WebSocket client over a plain TCP connection that sends masked text frames and reads
 * only the upgrade's answer, never anything after: the server's socket fills up.
 */
export async function stuckWs(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const write = async (bytes: Uint8Array) => {
    for (let o = 0; o < bytes.length;) o += await conn.write(bytes.subarray(o));
  };
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  await write(
    new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
  );
  // Read the answer's head byte by byte, so that nothing after it is taken.
  let head = "";
  const one = new Uint8Array(1);
  while (!head.endsWith("\r\n\r\n")) {
    if (await conn.read(one) === null) throw new Error("closed during the upgrade");
    head += String.fromCharCode(one[0]);
  }
  assert.match(head, /^HTTP\/1\.1 101/);
  return {
    async send(message: unknown): Promise<void> {
      const payload = new TextEncoder().encode(JSON.stringify(message));
      const mask = crypto.getRandomValues(new Uint8Array(4));
      const length = payload.length < 126
        ? [payload.length | 0x80]
        : [126 | 0x80, payload.length >> 8, payload.length & 0xff];
      const frame = new Uint8Array(2 + length.length - 1 + 4 + payload.length);
      frame.set([0x81, ...length, ...mask]);
      for (let i = 0; i < payload.length; i++) {
        frame[length.length + 5 + i] = payload[i] ^ mask[i % 4];
      }
      await write(frame);
    },
    close: () => conn.close(),
  };
}
