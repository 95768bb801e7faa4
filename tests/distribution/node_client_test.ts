// The bundled "." entry point run by Node (20+): typed calls, a batch and a named error
// against a live server, with nothing but the bundle and Node's own globals.
import assert from "node:assert/strict";
import { clientBundle, CONSUMER_CALLS } from "../fixtures/client_bundle.ts";
import { EXPECTED, startShop } from "../fixtures/consumer_server.ts";
import { ignoreUnless, NODE, peers } from "../fixtures/peers.ts";

const noNode = await ignoreUnless(peers.node);

/** Writes the bundle and a main module to a fresh directory and runs `node main.mjs ARGS`. */
async function runNode(main: string, args: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-node-" });
  try {
    await Deno.writeTextFile(`${dir}/switchboard-client.mjs`, await clientBundle());
    await Deno.copyFile(CONSUMER_CALLS, `${dir}/consumer_calls.mjs`);
    await Deno.writeTextFile(`${dir}/main.mjs`, main);
    const out = await new Deno.Command(NODE, {
      args: ["main.mjs", ...args],
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
