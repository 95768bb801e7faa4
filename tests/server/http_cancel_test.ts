// A cancel reaches every hop over JSON-RPC/HTTP, with real sockets: a client that aborts its
// call closes its connection, the server's handler's ctx.signal aborts, and so do the
// ctx.client calls that handler made to the next server, down to the last hop.
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, RpcError, t } from "../../mod.ts";
import { Server } from "../../server.ts";

const quiet = { error: () => {}, warn: () => {} };

const Hop = defineInterface("Hop", {
  /** Passes the call on to the next server, or (at the last) waits until cancelled. */
  pass: method({ params: { left: t.int }, result: t.string }),
});

/** What the handlers of one server did. */
interface Seen {
  started: number;
  aborted: PromiseWithResolvers<unknown>;
  finallyRan: PromiseWithResolvers<void>;
}

async function hopServer(next: string | undefined) {
  const seen: Seen = {
    started: 0,
    aborted: Promise.withResolvers(),
    finallyRan: Promise.withResolvers(),
  };
  const onward = next ? connect(next) : undefined;
  const server = new Server({ logger: quiet, client: onward });
  server.register(implement(Hop, {
    pass: async ({ left }, ctx) => {
      seen.started++;
      ctx.signal.addEventListener("abort", () => seen.aborted.resolve(ctx.signal.reason), {
        once: true,
      });
      try {
        if (left > 0) return await ctx.client.proxy(Hop).pass({ left: left - 1 });
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        return "cancelled";
      } finally {
        seen.finallyRan.resolve();
      }
    },
  }));
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
  return {
    seen,
    url: new URL("/rpc", http.url).href,
    close: async () => {
      await onward?.close();
      await server.close();
    },
  };
}

/** `promise`, or a failure naming `what` after `ms` (a test never hangs). */
function within<T>(promise: Promise<T>, what: string, ms = 15_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

Deno.test("http: aborting a call cancels every hop: client → A → B → C, C's finally runs", async () => {
  const c = await hopServer(undefined);
  const b = await hopServer(c.url);
  const a = await hopServer(b.url);
  const client = connect(a.url);
  try {
    const controller = new AbortController();
    const call = client.proxy(Hop).pass({ left: 2 }, { signal: controller.signal });
    // Wait until the last hop runs, then give up at the first.
    while (c.seen.started === 0) await within(new Promise((r) => setTimeout(r, 20)), "C");
    controller.abort();
    await assert.rejects(call, (e: unknown) => e instanceof RpcError && e.name === "Cancelled");
    for (const [name, hop] of [["A", a], ["B", b], ["C", c]] as const) {
      const reason = await within(hop.seen.aborted.promise, `${name}'s ctx.signal to abort`);
      assert.ok(reason instanceof RpcError, `${name}: ${reason}`);
      assert.equal(reason.name, "Cancelled", `${name}: ${reason.message}`);
      await within(hop.seen.finallyRan.promise, `${name}'s finally`);
    }
  } finally {
    await client.close();
    await a.close();
    await b.close();
    await c.close();
  }
});

Deno.test("http: a caller that hangs up its socket mid-call aborts the handler's ctx.signal", async () => {
  const last = await hopServer(undefined);
  const url = new URL(last.url);
  try {
    // A plain socket: a request with a deadline header, then the connection closed.
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Hop.pass", params: { left: 0 } });
    await conn.write(new TextEncoder().encode(
      `POST /rpc HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
        `x-rpc-timeout: 60000\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    ));
    while (last.seen.started === 0) await within(new Promise((r) => setTimeout(r, 20)), "start");
    conn.close();
    const reason = await within(last.seen.aborted.promise, "the handler's ctx.signal to abort");
    assert.ok(reason instanceof RpcError && reason.name === "Cancelled", String(reason));
    await within(last.seen.finallyRan.promise, "the handler's finally");
  } finally {
    await last.close();
  }
});
