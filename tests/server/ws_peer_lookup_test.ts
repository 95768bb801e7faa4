// Server.peer and Server.peers find WebSocket peers too (not only TCP ones): a server calls a
// page back by its id, from outside any call of the page's.
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";

const Page = defineInterface("Page", { title: method({ result: t.string }) });
const Ping = defineInterface("Ping", { ping: method({ result: t.string }) });

Deno.test("Server.peer reaches a WebSocket peer by its id; peers() lists it", async () => {
  const server = new Server().register(implement(Ping, { ping: () => "pong" }));
  const http = await server.listenHttp({ port: 0 }, { websocket: true });
  const tcp = await server.listenTcp({ port: 0 });
  const page = connect(http.url.replace("http", "ws"), { id: "page-1" });
  const other = connect(tcp.url, { id: "tcp-1" });
  try {
    page.register(implement(Page, { title: () => "the page" }));
    other.register(implement(Page, { title: () => "the tcp peer" }));
    assert.equal(await page.call("Ping.ping"), "pong");
    assert.equal(await other.call("Ping.ping"), "pong");
    assert.deepEqual(server.peers().map((p) => p.id).sort(), ["page-1", "tcp-1"]);
    assert.equal(await server.peer("page-1").proxy(Page).title(), "the page");
    assert.equal(await server.peer("tcp-1").proxy(Page).title(), "the tcp peer");
    await assert.rejects(server.peer("nobody").call("Page.title"), {
      name: "Unavailable",
      message: /peer nobody is not connected/,
    });
  } finally {
    await page.close();
    await other.close();
    await server.close();
  }
});
