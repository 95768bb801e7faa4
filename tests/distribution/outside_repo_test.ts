// "." imported the way a user's project does it: a directory outside this repository whose
// deno.json maps only `@switchboard/rpc` (to this checkout's mod.ts), a script type-checked
// there and run with network access to the server alone (no env, read or other permission).
import assert from "node:assert/strict";
import { CONSUMER_CALLS } from "../fixtures/client_bundle.ts";
import { EXPECTED, startShop } from "../fixtures/consumer_server.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

const SCRIPT = `import * as sb from "@switchboard/rpc";
import { connect, defineInterface, method, RpcError, t } from "@switchboard/rpc";
import { exercise } from "./consumer_calls.js";

const Shop = defineInterface("Shop", {
  price: method({ params: { item: t.string, qty: t.int }, result: t.float }),
});
const client = connect(Deno.args[0]);
const total: number = await client.proxy(Shop).price({ item: "fig", qty: 2 });
await client.close();
const seen = await exercise(sb, Deno.args[0]);
console.log(JSON.stringify({ total, rpcError: RpcError.name, ...seen }));
`;

/** A project directory outside the repository, removed after `fn`. */
async function withProject(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-user-" });
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({ imports: { "@switchboard/rpc": MOD } }, null, 2),
    );
    await Deno.copyFile(CONSUMER_CALLS, `${dir}/consumer_calls.js`);
    await Deno.writeTextFile(`${dir}/main.ts`, SCRIPT);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function deno(dir: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: dir,
    // Nothing of this repository's environment leaks in but the module cache.
    clearEnv: true,
    env: {
      NO_COLOR: "1",
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? dir,
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("outside the repository: type-checks, and calls with --allow-net alone", async () => {
  await using shop = await startShop();
  await withProject(async (dir) => {
    const check = await deno(dir, ["check", "main.ts"]);
    assert.equal(check.code, 0, check.stderr);
    const run = await deno(dir, [
      "run",
      "--no-prompt",
      `--allow-net=127.0.0.1:${shop.port}`,
      "main.ts",
      shop.url,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { total: 3, rpcError: "RpcError", ...EXPECTED });
    assert.equal(run.stderr.includes("Warning"), false, run.stderr);
  });
});

Deno.test("outside the repository: without access to the server, the call is refused", async () => {
  await using shop = await startShop();
  await withProject(async (dir) => {
    const run = await deno(dir, [
      "run",
      "--no-prompt",
      `--allow-net=127.0.0.1:${shop.port === 1 ? 2 : 1}`,
      "main.ts",
      shop.url,
    ]);
    assert.notEqual(run.code, 0);
    const port = shop.port;
    assert.match(
      run.stderr,
      new RegExp(`Unavailable: .*Requires net access to "127.0.0.1:${port}"`),
    );
    assert.equal(shop.calls(), 0);
  });
});
