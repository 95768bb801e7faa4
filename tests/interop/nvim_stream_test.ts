// Neovim (a plain msgpack-rpc peer) calling a streamed method: the whole array, or an
// error naming the limit that Neovim shows as text.
import assert from "node:assert/strict";
import { Server } from "../../server.ts";
import { feedImpl, feedProbe } from "../fixtures/feed.ts";
import { ignoreUnless, peers } from "../fixtures/peers.ts";
import { runNvimLua } from "./nvim_fixture.ts";

const LUA = `
local ch = vim.fn.sockconnect("tcp", os.getenv("SB_ADDR"), { rpc = true })
local out = {}
out.whole = vim.rpcrequest(ch, "Feed.count", 12)
local ok, err = pcall(vim.rpcrequest, ch, "Feed.count", 13)
out.too_long = { ok, err }
ok, err = pcall(vim.rpcrequest, ch, "Feed.fails", 2)
out.fails = { ok, err }
io.stdout:write(vim.fn.json_encode(out))
vim.fn.chanclose(ch)
vim.cmd("qa!")
`;

Deno.test({
  name: "Neovim gets a streamed result as the whole array, or an error naming the limit",
  ignore: await ignoreUnless(peers.nvim),
  fn: async () => {
    const server = new Server({ logger: { error: () => {}, warn: () => {} }, maxStreamItems: 12 });
    server.register(feedImpl(feedProbe()));
    const tcp = await server.listenTcp({ port: 0 });
    try {
      const run = await runNvimLua(LUA, { SB_ADDR: `127.0.0.1:${tcp.port}` });
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      assert.deepEqual(out.whole, Array.from({ length: 12 }, (_, i) => i));
      assert.equal(out.too_long[0], false);
      assert.match(out.too_long[1], /more than 12 items \(limit 12\)/);
      assert.match(out.fails[1], /NotFound: nothing after 2/);
    } finally {
      await server.close();
    }
  },
});
