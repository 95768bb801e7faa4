// `switchboard call` on a streamed result (tcp://, http://, ws://): NDJSON lines as they
// arrive; Ctrl-C cancels the stream at the server. And OpenRPC marks streams with the item schema.
import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { Server } from "../../server.ts";
import { openRpcDocument } from "../../src/core/idl/openrpc.ts";
import { Feed, feedImpl, feedProbe } from "../fixtures/feed.ts";

const MAIN = fromFileUrl(new URL("../../main.ts", import.meta.url));

async function feedServer() {
  const probe = feedProbe();
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(feedImpl(probe));
  const tcp = await server.listenTcp({ port: 0 });
  const http = await server.listenHttp({ port: 0 });
  const web = await server.listenHttp({ port: 0 }, { websocket: true });
  const ws = { url: web.url.replace("http", "ws") };
  return { probe, tcp, http, ws, close: () => server.close() };
}

function callProcess(...args: string[]) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, "call", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
}

for (const transport of ["tcp", "http", "ws"] as const) {
  Deno.test(`switchboard call prints a streamed result as NDJSON lines (${transport})`, async () => {
    const server = await feedServer();
    const url = server[transport].url;
    try {
      const out = await callProcess(url, "Feed.count", '{"n":3}').output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stdout), "0\n1\n2\n");
      const failed = await callProcess(url, "Feed.fails", '{"after":1}').output();
      assert.equal(new TextDecoder().decode(failed.stdout), "0\n");
      assert.match(
        new TextDecoder().decode(failed.stderr),
        /NotFound \(-32000\): nothing after 1/,
      );
      assert.notEqual(failed.code, 0);
      // A method that does not stream prints as before.
      const plain = await callProcess(url, "system.listMethods").output();
      assert.ok(Array.isArray(JSON.parse(new TextDecoder().decode(plain.stdout))));
    } finally {
      await server.close();
    }
  });

  Deno.test(`Ctrl-C on switchboard call cancels the stream at the server (${transport})`, async () => {
    const server = await feedServer();
    const { probe, close } = server;
    try {
      await ctrlC(server[transport].url, probe);
    } finally {
      await close();
    }
  });
}

async function ctrlC(url: string, probe: ReturnType<typeof feedProbe>) {
  const child = callProcess(url, "Feed.endless").spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  assert.match(first.value ?? "", /^"item 0"\n/);
  child.kill("SIGINT");
  const status = await child.status;
  await reader.cancel().catch(() => {});
  await child.stderr.cancel();
  assert.equal(status.code, 0);
  await probe.finished.promise;
  assert.equal((probe.abortReason as Error).name, "Cancelled", String(probe.abortReason));
}

Deno.test("OpenRPC marks streamed results and params with x-stream and the item schema", () => {
  const doc = openRpcDocument([Feed]);
  const count = doc.methods.find((m) => m.name === "Feed.count")!;
  assert.deepEqual(count.result["x-stream"], { items: count.result.schema.items });
  assert.equal((count.result.schema.items as { type: string }).type, "integer");
  const sum = doc.methods.find((m) => m.name === "Feed.sum")!;
  assert.ok(sum.params[0]["x-stream"]);
  assert.equal(sum.params[1]["x-stream"], undefined);
  assert.equal(sum.result["x-stream"], undefined);
});
