// Neovim as a msgpack-rpc CLIENT of a Switchboard server: Lua's vim.rpcrequest and
// vim.rpcnotify over sockconnect, as Neovim plugins talk to remote services.
import assert from "node:assert/strict";
import { ignoreUnless, peers } from "../fixtures/peers.ts";
import { editorServer, runNvimLua } from "./nvim_fixture.ts";

const LUA = `
local addr = os.getenv("SB_ADDR")
local ch = vim.fn.sockconnect("tcp", addr, { rpc = true })
vim.g.sb = ch
local out = {}
out.echo = vim.rpcrequest(ch, "Editor.echo", { list = { 1, "two" }, n = 3 })
out.add = vim.rpcrequest(ch, "Editor.add", 2, 40)
out.unqualified = vim.rpcrequest(ch, "add", 1, 1)
-- An application error and an unknown method, as Neovim shows them.
local ok, err = pcall(vim.rpcrequest, ch, "Editor.fail", "spoon")
out.fail = { ok, err }
ok, err = pcall(vim.rpcrequest, ch, "Editor.nope")
out.unknown = { ok, err }
ok, err = pcall(vim.rpcrequest, ch, "Editor.add", "x", 1)
out.invalid = { ok, err }
-- Bytes: a Lua string is text (its UTF-8 bytes); results come back as strings.
out.size = vim.rpcrequest(ch, "Editor.size", "abcd")
out.bytes = vim.rpcrequest(ch, "Editor.bytes", "héllo")
-- A binary Lua string (not UTF-8) reaches a t.bytes param as the bytes it holds.
out.hex = vim.rpcrequest(ch, "Editor.hex", "\\0\\255\\254abc")
-- A whole t.float result stays a Float in Vim script (type 5), not a Number (0).
out.third_type = vim.api.nvim_eval("type(rpcrequest(g:sb, 'Editor.third', 9))")
out.third = vim.rpcrequest(ch, "Editor.third", 9)
-- So do the t.float members of a struct result (the int member stays a Number); -0 keeps
-- its sign.
out.point_types = vim.api.nvim_eval(
  "map(['x', 'negated', 'n'], {_, k -> type(rpcrequest(g:sb, 'Editor.point', 1)[k])})")
out.negated_zero = tostring(vim.rpcrequest(ch, "Editor.point", 0).negated)
-- Notifications arrive, in order, before the next request's answer.
vim.rpcnotify(ch, "Editor.note", "first")
vim.rpcnotify(ch, "Editor.note", "second")
out.notes = vim.rpcrequest(ch, "Editor.notes")
io.stdout:write(vim.fn.json_encode(out))
vim.fn.chanclose(ch)
vim.cmd("qa!")
`;

Deno.test({
  name: "Neovim's rpcrequest/rpcnotify call a Switchboard server; errors read as text",
  ignore: await ignoreUnless(peers.nvim),
  fn: async () => {
    const { tcp, notes, close } = await editorServer();
    try {
      const run = await runNvimLua(LUA, { SB_ADDR: `127.0.0.1:${tcp.port}` });
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      assert.deepEqual(out.echo, { list: [1, "two"], n: 3 });
      assert.equal(out.add, 42);
      assert.equal(out.unqualified, 2);
      // Neovim shows the message of a [type, message] error (a map would be "unknown error").
      assert.equal(out.fail[0], false);
      assert.match(out.fail[1], /NotFound: no spoon here/);
      assert.doesNotMatch(out.fail[1], /unknown error/);
      assert.match(out.unknown[1], /Method not found: Editor\.nope/);
      assert.match(out.invalid[1], /params\.a: expected int, got "x"/);
      assert.equal(out.size, 4);
      assert.equal(out.bytes, "héllo");
      assert.equal(out.third_type, 5);
      assert.equal(out.third, 3);
      assert.equal(out.hex, "00fffe616263"); // not 10 bytes of U+FFFD as UTF-8
      assert.deepEqual(out.point_types, [5, 5, 0]);
      assert.equal(out.negated_zero, "-0");
      assert.deepEqual(out.notes, ["first", "second"]);
      assert.deepEqual(notes, ["first", "second"]);
    } finally {
      await close();
    }
  },
});
