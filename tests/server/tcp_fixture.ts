// Shared by the TCP tests: a demo interface, a server on a free port, and a raw
// msgpack-rpc socket client (independent encoder: @msgpack/msgpack).
import { encode } from "@msgpack/msgpack";
import { defineError, defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";
import type { Message } from "../../src/wire/msgpackrpc/codec.ts";
import { MessageDecoder } from "../../src/wire/msgpackrpc/codec.ts";
import type { TcpAddress, TcpListener, TcpOptions } from "../../src/server/tcp.ts";
import "../../src/client/tcp.ts";

export const NotFound = defineError("NotFound");

export const Demo = defineInterface("Demo", {
  echo: method({ params: { value: t.any }, result: t.any }),
  sleep: method({ params: { ms: t.int, tag: t.string }, result: t.string }),
  fail: method({ params: { message: t.string } }),
  types: method({
    params: { data: t.bytes, when: t.datetime, counts: t.map(t.int) },
    result: t.struct("Types", { data: t.bytes, when: t.datetime, counts: t.map(t.int) }),
  }),
  note: method({ params: { text: t.string } }),
  notes: method({ result: t.array(t.string) }),
  whoami: method({ result: t.nullable(t.string) }),
});

/**
 * A server with Demo on a free port; `notes` collects Demo.note notifications, `warnings`
 * what the server logged as warnings.
 */
export async function demoServer(options: TcpOptions = {}, address: TcpAddress = {}) {
  const notes: string[] = [];
  const warnings: string[] = [];
  const server = new Server({
    logger: { error: () => {}, warn: (message) => void warnings.push(message) },
  });
  server.register(implement(Demo, {
    echo: ({ value }) => value,
    sleep: async ({ ms, tag }, ctx) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        ctx.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return tag;
    },
    fail: ({ message }) => {
      throw new NotFound(message, { hint: "try another" });
    },
    types: (params) => params,
    note: ({ text }) => void notes.push(text),
    notes: () => notes,
    whoami: (_, ctx) => ctx.caller?.id ?? null,
  }));
  const tcp: TcpListener = await server.listenTcp({ port: 0, ...address }, options);
  return { server, tcp, notes, warnings, close: () => server.close() };
}

/** A plain msgpack-rpc client on a raw socket. */
export async function rawClient(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new MessageDecoder(64 * 1024 * 1024);
  const inbox: Message[] = [];
  let waiter: (() => void) | undefined;
  let eof = false;
  const reading = (async () => {
    const buffer = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        decoder.push(buffer.subarray(0, n));
        for (let next = decoder.next(); next; next = decoder.next()) {
          if (next.ok) inbox.push(next.message);
        }
        waiter?.();
      }
    } catch {
      // closed
    }
    eof = true;
    waiter?.();
  })();
  const wait = async (ready: () => boolean, what: string, ms: number) => {
    const deadline = Date.now() + ms;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        waiter = resolve;
        timer = setTimeout(resolve, 50);
      });
      clearTimeout(timer);
      waiter = undefined;
    }
  };
  return {
    /** Sends values encoded back to back, as one write. */
    async send(...values: unknown[]) {
      const parts = values.map((v) => v instanceof Uint8Array ? v : encode(v));
      const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let offset = 0;
      for (const p of parts) {
        all.set(p, offset);
        offset += p.byteLength;
      }
      for (let o = 0; o < all.length;) o += await conn.write(all.subarray(o));
    },
    /** The next message from the server. */
    async next(ms = 5000): Promise<Message> {
      await wait(() => inbox.length > 0 || eof, "a message", ms);
      const message = inbox.shift();
      if (!message) throw new Error("connection closed by the server");
      return message;
    },
    /** Resolves when the server has closed the connection. */
    async closedByServer(ms = 5000): Promise<void> {
      await wait(() => eof, "the server to close the connection", ms);
    },
    inbox,
    async close() {
      try {
        conn.close();
      } catch {
        // closed already
      }
      await reading;
    },
  };
}

/**
 * A TCP proxy that can go silent: while frozen it swallows every byte both ways but
 * keeps the sockets open, as a dead network path (or a hung peer) does.
 */
export function freezableProxy(targetPort: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const loops: Promise<void>[] = [];
  let frozen = false;
  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    const buffer = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        if (frozen) continue;
        for (let o = 0; o < n;) o += await to.write(buffer.subarray(o, n));
      }
    } catch {
      // closed
    }
    // A dead path does not carry the hang-up either: the other end keeps waiting.
    for (const c of frozen ? [from] : [from, to]) {
      try {
        c.close();
      } catch {
        // closed already
      }
      conns.delete(c);
    }
  };
  const accepting = (async () => {
    try {
      for await (const inbound of listener) {
        const outbound = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
        conns.add(inbound);
        conns.add(outbound);
        loops.push(pump(inbound, outbound), pump(outbound, inbound));
      }
    } catch {
      // listener closed
    }
  })();
  return {
    url: `tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
    },
    /** Cuts every current connection (new ones are still accepted). */
    kill() {
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
    },
    async close() {
      listener.close();
      await accepting;
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
      await Promise.all(loops);
    },
  };
}

/** Polls `check` until it is true (bounded). */
export async function eventually(check: () => boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
