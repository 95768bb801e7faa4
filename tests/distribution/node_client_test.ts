// The bundled "." entry point run by Node (20+): typed calls, a batch and a named error
// against a live server, with nothing but the bundle and Node's own globals.
import assert from "node:assert/strict";
import { clientBundle, CONSUMER_CALLS } from "../fixtures/client_bundle.ts";
import { EXPECTED, startShop } from "../fixtures/consumer_server.ts";
import { ignoreUnless, NODE, peers } from "../fixtures/peers.ts";

const noNode = await ignoreUnless(peers.node);

/** Writes the bundle and a main module to a fresh directory and runs `node main.mjs ARGS`. */
async function runNode(main: string, args: string[], nodeFlags: string[] = []) {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-node-" });
  try {
    await Deno.writeTextFile(`${dir}/switchboard-client.mjs`, await clientBundle());
    await Deno.copyFile(CONSUMER_CALLS, `${dir}/consumer_calls.mjs`);
    await Deno.writeTextFile(`${dir}/main.mjs`, main);
    const out = await new Deno.Command(NODE, {
      args: [...nodeFlags, "main.mjs", ...args],
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const MAIN = `import * as sb from "./switchboard-client.mjs";
import { exercise } from "./consumer_calls.mjs";
console.log(JSON.stringify({ deno: typeof globalThis.Deno, ...(await exercise(sb, process.argv[2])) }));
`;

Deno.test({ name: "node: the bundled client calls a live server", ignore: noNode }, async () => {
  await using shop = await startShop();
  const run = await runNode(MAIN, [shop.url]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { deno: "undefined", ...EXPECTED });
  assert.equal(shop.calls(), 5, "1 call, 3 in the batch, 1 failing");
});

Deno.test({
  name: "node: an unreachable server is an RpcError naming it",
  ignore: noNode,
}, async () => {
  const shop = await startShop();
  const url = shop.url;
  await shop.close();
  const run = await runNode(
    `import { connect, RpcError } from "./switchboard-client.mjs";
try {
  await connect(process.argv[2]).call("Shop.price", { item: "x", qty: 1 });
  console.log("no error");
} catch (e) {
  console.log(JSON.stringify({ rpcError: e instanceof RpcError, name: e.name, message: e.message }));
}
`,
    [url],
  );
  assert.equal(run.code, 0, run.stderr);
  const seen = JSON.parse(run.stdout);
  assert.equal(seen.rpcError, true, run.stdout);
  assert.equal(seen.name, "Unavailable");
  assert.ok(seen.message.includes(url.replace("http://", "")), seen.message);
});

const WS_MAIN =
  `import { connect, defineInterface, implement, method, t } from "./switchboard-client.mjs";
const Page = defineInterface("Page", { title: method({ result: t.string }) });
const seen = {};
const client = connect(process.argv[2], { id: "node-1" });
try {
  client.register(implement(Page, { title: () => "node " + process.versions.node.split(".")[0] }));
  seen.sum = await client.call("Desk.add", { a: 2, b: 3 });
  seen.back = await client.call("Desk.back");
} catch (e) {
  seen.failed = { name: e.name, type: e.constructor.name, message: e.message };
} finally {
  await client.close();
}
console.log(JSON.stringify(seen));
`;

async function wsDesk() {
  const { Server } = await import("../../server.ts");
  const { defineInterface, implement, method, t } = await import("../../mod.ts");
  const Desk = defineInterface("Desk", {
    add: method({ params: { a: t.int, b: t.int }, result: t.int }),
    back: method({ result: t.string }),
  });
  const Page = defineInterface("Page", { title: method({ result: t.string }) });
  const server = new Server().register(implement(Desk, {
    add: ({ a, b }) => a + b,
    back: (_, ctx) => ctx.peer!.proxy(Page).title(),
  }));
  const http = await server.listenHttp({ port: 0 }, { websocket: true });
  return { url: http.url.replace("http", "ws"), [Symbol.asyncDispose]: () => server.close() };
}

Deno.test({
  name: "node: ws:// works with a global WebSocket, and says what to do without one (Node 20)",
  ignore: noNode,
}, async () => {
  await using desk = await wsDesk();
  // Node 20 has WebSocket only behind a flag (Node 22 has it always).
  const withSocket = await runNode(WS_MAIN, [desk.url], ["--experimental-websocket"]);
  assert.equal(withSocket.code, 0, withSocket.stderr);
  const seen = JSON.parse(withSocket.stdout);
  assert.equal(seen.sum, 5, withSocket.stdout);
  assert.match(seen.back, /^node \d+$/);
  const version = await new Deno.Command(NODE, { args: ["-e", "console.log(typeof WebSocket)"] })
    .output();
  if (new TextDecoder().decode(version.stdout).trim() === "undefined") {
    const without = await runNode(WS_MAIN, [desk.url]);
    assert.equal(without.code, 0, without.stderr);
    const failed = JSON.parse(without.stdout).failed;
    assert.equal(failed?.type, "TypeError", without.stdout);
    assert.match(failed.message, /no global WebSocket.*"ws" package/);
  }
});
