// Neovim as a msgpack-rpc SERVER (`nvim --headless --listen`): Switchboard's client and CLI
// call its API (buffers, windows, a failing command, notifications), and Neovim calls the
// handlers a Switchboard client registered (rpcrequest on the client's channel).
import assert from "node:assert/strict";
import { connect, RpcError } from "../../mod.ts";
import { MsgpackExtension } from "../../tcp.ts";
import "../../src/client/all_transports.ts";
import { ignoreUnless, peers } from "../fixtures/peers.ts";
import { Editor, editorImpl, headlessNvim } from "./nvim_fixture.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ignore = await ignoreUnless(peers.nvim);

Deno.test({
  name: "Switchboard's client calls Neovim: eval, buffers and windows as handles, errors",
  ignore,
  fn: async () => {
    const nvim = await headlessNvim();
    const client = connect(nvim.url);
    try {
      assert.equal(await client.call("nvim_eval", ["6 * 7"]), 42);
      // Buffer (ext 0) and Window (ext 1) handles arrive opaque and go back as they came.
      const buf = await client.call("nvim_get_current_buf", []);
      assert.ok(buf instanceof MsgpackExtension);
      assert.equal(buf.type, 0);
      await client.call("nvim_buf_set_lines", [buf, 0, -1, false, ["one", "two"]]);
      assert.deepEqual(await client.call("nvim_buf_get_lines", [buf, 0, -1, false]), [
        "one",
        "two",
      ]);
      const win = await client.call("nvim_get_current_win", []) as MsgpackExtension;
      assert.equal(win.type, 1);
      assert.deepEqual(await client.call("nvim_win_get_buf", [win]), buf);
      await client.call("nvim_win_set_cursor", [win, [2, 1]]);
      assert.deepEqual(await client.call("nvim_win_get_cursor", [win]), [2, 1]);
      const tab = await client.call("nvim_get_current_tabpage", []) as MsgpackExtension;
      assert.equal(tab.type, 2);
      assert.deepEqual(await client.call("nvim_tabpage_get_win", [tab]), win);
      // A list holding handles (nvim_list_bufs) round-trips too.
      const bufs = await client.call("nvim_list_bufs", []) as MsgpackExtension[];
      assert.deepEqual(bufs, [buf]);
      // [channel, metadata]: mixed types in one array.
      const [channel, metadata] = await client.call("nvim_get_api_info", []) as [number, {
        version: { major: number };
      }];
      assert.equal(typeof channel, "number");
      assert.equal(metadata.version.major, 0);
      // A failing command is a readable RpcError, not "unknown error" or a dropped call.
      await assert.rejects(client.call("nvim_command", ["NoSuchCommand"]), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.match(e.message, /E492: Not an editor command: NoSuchCommand/);
        return true;
      });
      await assert.rejects(client.call("nvim_buf_get_lines", [42, 0, -1, false]), /Invalid buffer/);
      await assert.rejects(client.call("no_such_function", []), /Invalid method/);
      // The connection survives all of that.
      assert.equal(await client.call("nvim_eval", ["1 + 1"]), 2);
      // A notification followed by close() is delivered (written before the socket closes).
      await client.notify("nvim_set_var", ["from_notify", 7]);
      await client.close();
      const check = connect(nvim.url);
      try {
        assert.equal(await check.call("nvim_get_var", ["from_notify"]), 7);
      } finally {
        await check.close();
      }
    } finally {
      await client.close();
      await nvim.close();
    }
  },
});

Deno.test({
  name: "Neovim calls handlers a Switchboard client registered; errors read as text",
  ignore,
  fn: async () => {
    const nvim = await headlessNvim();
    const notes: string[] = [];
    const client = connect(nvim.url);
    client.register(editorImpl(notes));
    try {
      const [channel] = await client.call("nvim_get_api_info", []) as [number];
      const lua = (code: string) => client.call("nvim_exec_lua", [code, [channel]]);
      assert.equal(await lua("return vim.rpcrequest(..., 'Editor.add', 20, 22)"), 42);
      assert.equal(await lua("return vim.rpcrequest(..., 'Editor.size', 'abc')"), 3);
      // A binary Lua string reaches a t.bytes param as its bytes (not U+FFFD as UTF-8).
      assert.equal(
        await lua("return vim.rpcrequest(..., 'Editor.hex', '\\0\\255\\254abc')"),
        "00fffe616263",
      );
      assert.equal(
        await client.call("nvim_eval", [`type(rpcrequest(${channel}, 'Editor.third', 6))`]),
        5, // a Float, not a Number
      );
      // The t.float members of a struct result too (the int member stays a Number).
      assert.deepEqual(
        await client.call("nvim_eval", [
          `map(['x', 'negated', 'n'], {_, k -> type(rpcrequest(${channel}, 'Editor.point', 2)[k])})`,
        ]),
        [5, 5, 0],
      );
      const failed = await lua("return { pcall(vim.rpcrequest, ..., 'Editor.fail', 'cake') }");
      assert.deepEqual(failed, [false, "NotFound: no cake here"]);
      await lua("vim.rpcnotify(..., 'Editor.note', 'from nvim')");
      for (let i = 0; i < 100 && notes.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(notes, ["from nvim"]);
    } finally {
      await client.close();
      await nvim.close();
    }
  },
});

Deno.test({
  name: "a typed proxy sends Neovim its params as an array, in declared order",
  ignore,
  fn: async () => {
    const nvim = await headlessNvim();
    const client = connect(nvim.url);
    try {
      // Neovim reads the request (then finds no such method): with params as a map it would
      // refuse the message itself ("Parameters must be an array").
      await assert.rejects(client.proxy(Editor).add({ b: 3, a: 2 }), (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.message, "Invalid method: Editor.add");
        return true;
      });
      // The connection goes on (Neovim closes it after a message it refuses).
      assert.equal(await client.call("nvim_eval", ["6 * 7"]), 42);
    } finally {
      await client.close();
      await nvim.close();
    }
  },
});

Deno.test({
  name: "switchboard call (and --notify) against Neovim",
  ignore,
  fn: async () => {
    const nvim = await headlessNvim();
    const cli = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "main.ts", "call", ...args],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    };
    try {
      const [evaluated, failed, notified] = await Promise.all([
        cli(nvim.url, "nvim_eval", '["[1, \\"two\\", 3.5]"]'),
        cli(nvim.url, "nvim_command", '["NoSuchCommand"]'),
        cli("--notify", nvim.url, "nvim_set_var", '["cli_var", "set"]'),
      ]);
      assert.equal(evaluated.code, 0, evaluated.stderr);
      assert.deepEqual(JSON.parse(evaluated.stdout), [1, "two", 3.5]);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /E492: Not an editor command: NoSuchCommand/);
      assert.equal(notified.code, 0, notified.stderr);
      const check = connect(nvim.url);
      try {
        assert.equal(await check.call("nvim_get_var", ["cli_var"]), "set");
      } finally {
        await check.close();
      }
    } finally {
      await nvim.close();
    }
  },
});
