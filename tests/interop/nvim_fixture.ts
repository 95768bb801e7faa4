// Shared by the Neovim and pynvim tests: the interface Neovim-side code calls, a
// Switchboard server serving it, and a headless Neovim listening on a free port.
import { defineError, defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";
import { NVIM } from "../fixtures/peers.ts";
import "../../tcp.ts"; // connect() speaks tcp

export const NotFound = defineError("NotFound");

/** A struct whose members are floats (whole ones must stay floats on the wire). */
export const Point = t.struct("Point", { x: t.float, negated: t.float, n: t.int });

/** What Neovim (or pynvim) calls on a Switchboard server, or on a Switchboard client. */
export const Editor = defineInterface("Editor", {
  echo: method({ params: { value: t.any }, result: t.any }),
  fail: method({ params: { what: t.string }, result: t.string }),
  note: method({ params: { text: t.string } }),
  notes: method({ result: t.array(t.string) }),
  size: method({ params: { data: t.bytes }, result: t.int }),
  bytes: method({ params: { text: t.string }, result: t.bytes }),
  third: method({ params: { n: t.int }, result: t.float }),
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
  hex: method({ params: { data: t.bytes }, result: t.string }),
  point: method({ params: { x: t.float }, result: Point }),
});

/** The implementation; `notes` collects Editor.note notifications. */
export function editorImpl(notes: string[] = []) {
  return implement(Editor, {
    echo: ({ value }) => value,
    fail: ({ what }) => {
      throw new NotFound(`no ${what} here`);
    },
    note: ({ text }) => void notes.push(text),
    notes: () => notes,
    size: ({ data }) => data.byteLength,
    bytes: ({ text }) => new TextEncoder().encode(text),
    third: ({ n }) => n / 3,
    add: ({ a, b }) => a + b,
    hex: ({ data }) => [...data].map((b) => b.toString(16).padStart(2, "0")).join(""),
    point: ({ x }) => ({ x, negated: -x, n: 1 }),
  });
}

/** A Switchboard server with Editor on a free TCP port. */
export async function editorServer() {
  const notes: string[] = [];
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(editorImpl(notes));
  const tcp = await server.listenTcp({ port: 0 });
  return { tcp, notes, close: () => server.close() };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A headless Neovim serving msgpack-rpc on 127.0.0.1 (stopped by `close`). */
export async function headlessNvim(): Promise<{ url: string; close(): Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command(NVIM, {
    args: ["--headless", "--clean", "--listen", `127.0.0.1:${port}`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const close = async () => {
    try {
      child.kill();
    } catch {
      // already gone
    }
    await child.status;
  };
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { url: `tcp://127.0.0.1:${port}`, close };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  await close();
  throw new Error(`nvim did not listen on 127.0.0.1:${port} within 5 s`);
}

/**
 * Runs Lua in a headless Neovim (`--clean`, no UI) and returns what it wrote to stdout;
 * the script ends Neovim itself (`vim.cmd("qa!")`). Bounded by `timeoutMs`.
 */
export async function runNvimLua(lua: string, env: Record<string, string>, timeoutMs = 20_000) {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/script.lua`;
  await Deno.writeTextFile(file, lua);
  try {
    const out = await new Deno.Command(NVIM, {
      args: ["--headless", "--clean", "-c", `luafile ${file}`],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
