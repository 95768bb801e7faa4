import assert from "node:assert/strict";
import { lazyModules } from "../../../scripts/lazy_modules.ts";

const ROOT = new URL("../../../", import.meta.url);

async function compile(env: Record<string, string>, args: string[] = []) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", "scripts/compile.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
  }).output();
  return {
    code: output.code,
    stderr: new TextDecoder().decode(output.stderr),
  };
}

Deno.test("compile: a missing runtime is one clear line and a non-zero exit", async () => {
  const { code, stderr } = await compile({ DENORT_BIN: "/nonexistent/denort" });
  assert.equal(code, 1);
  assert.equal(stderr.trim().split("\n").length, 1);
  assert.match(
    stderr,
    /^switchboard compile: DENORT_BIN=\/nonexistent\/denort is not a file; point it at the denort binary of Deno \d+\.\d+\.\d+/,
  );
});

Deno.test("compile: the binary's module graph, with the worker entry, builds", async () => {
  // Stand-in runtime: this deno binary. The output is not a working switchboard (a real
  // denort is), but deno compile resolves and embeds the whole graph. (Type checking is
  // the `deno check` gate's job.)
  const dir = await Deno.makeTempDir();
  try {
    const { code, stderr } = await compile(
      { DENORT_BIN: Deno.execPath() },
      ["--no-check", "--output", `${dir}/switchboard`],
    );
    assert.equal(code, 0, stderr);
    assert.match(stderr, /worker_entry\.ts/);
    // What dynamic imports name (the CLI's commands and transports, …) is embedded too.
    const embedded = embeddedPaths(stderr);
    const lazy = await lazyModules();
    assert.ok(
      lazy.includes("src/cli/serve.ts") && lazy.includes("src/adapters/deno/tcp_client.ts"),
      `${lazy}`,
    );
    for (const path of lazy) {
      assert.ok(
        embedded.some((e) => e === path || (e.endsWith("/*") && path.startsWith(e.slice(0, -1)))),
        `${path} is not embedded:\n${stderr}`,
      );
    }
    assert.ok((await Deno.stat(`${dir}/switchboard`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The paths of deno compile's "Embedded Files" tree (`dir/*` for a whole folder). */
function embeddedPaths(listing: string): string[] {
  const paths: string[] = [];
  const stack: string[] = [];
  for (const line of listing.split("\n")) {
    const at = line.search(/[├└]/);
    const name = /[├└]─[─┬] (.+?)(?: \(.*\))?$/.exec(line)?.[1];
    if (at < 0 || !name) continue;
    const depth = at / 2;
    stack.length = depth;
    stack.push(name);
    paths.push(stack.join("/"));
  }
  return paths;
}
