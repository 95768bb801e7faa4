// What a handler's ctx.client calls inherit, through a real router and server: the rest of
// the deadline and the handler's cancellation, combined with the call's own options.
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, t } from "../../../mod.ts";
import "../../../src/adapters/deno/tcp_client.ts";
import { Server } from "../../../server.ts";

const Inner = defineInterface("Inner", {
  left: method({ result: t.int }),
  hold: method({ result: t.string }),
});
const Outer = defineInterface("Outer", {
  viaProxy: method({ params: { own: t.int }, result: t.int }),
  viaCall: method({ result: t.int }),
  holdWithSignal: method({ result: t.string }),
});

Deno.test("inherit: ctx.client calls get the shorter deadline, and the handler's cancel with their own signal", async () => {
  let innerAborted: string | undefined;
  const inner = new Server().register(implement(Inner, {
    left: (_, ctx) => ctx.deadline === undefined ? -1 : ctx.deadline - Date.now(),
    hold: async (_, ctx) => {
      await new Promise((r) => ctx.signal.addEventListener("abort", r, { once: true }));
      innerAborted = (ctx.signal.reason as Error).name;
      return "stopped";
    },
  }));
  const innerTcp = await inner.listenTcp({ port: 0 });
  const outer = new Server();
  const toInner = connect(innerTcp.url);
  outer.router.client = toInner;
  outer.register(implement(Outer, {
    viaProxy: ({ own }, ctx) => ctx.client.proxy(Inner).left(undefined, { timeout: own }),
    viaCall: (_, ctx) => ctx.client.call("Inner.left") as Promise<number>,
    holdWithSignal: (_, ctx) =>
      ctx.client.proxy(Inner).hold(undefined, { signal: new AbortController().signal }),
  }));
  const outerTcp = await outer.listenTcp({ port: 0 });
  const client = connect(outerTcp.url);
  try {
    const outerProxy = client.proxy(Outer);
    const short = await outerProxy.viaProxy({ own: 60_000 }, { timeout: 3000 });
    assert.ok(short > 0 && short <= 3000, `inherited: ${short}`);
    const own = await outerProxy.viaProxy({ own: 1000 }, { timeout: 20_000 });
    assert.ok(own > 0 && own <= 1000, `its own, shorter: ${own}`);
    const plain = await outerProxy.viaCall(undefined, { timeout: 2000 });
    assert.ok(plain > 0 && plain <= 2000, `by name too: ${plain}`);

    const controller = new AbortController();
    const held = outerProxy.holdWithSignal(undefined, { signal: controller.signal, timeout: 0 });
    held.catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    await assert.rejects(held, { name: "Cancelled" });
    for (let i = 0; i < 100 && innerAborted === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(innerAborted, "Cancelled");
  } finally {
    await client.close();
    await outer.close();
    await toInner.close();
    await inner.close();
  }
});
