// msgpackr's native decoder loads only where the process may read the environment, load a
// library and read files; elsewhere the JavaScript decoder serves and nothing throws.

import assert from "node:assert/strict";

const MODULE = new URL("../../../src/adapters/deno/msgpack_native.ts", import.meta.url).href;
const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;

/** What `useNativeMsgpack()` resolves to in a process with these permissions. */
async function loaded(permissions: string[]): Promise<string> {
  // `deno eval` grants every permission, so the probe is a file run with exactly these.
  const dir = await Deno.makeTempDir();
  try {
    const probe = `${dir}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `import { useNativeMsgpack } from "${MODULE}"; console.log(await useNativeMsgpack());`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--config", CONFIG, ...permissions, probe],
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("msgpack_native: refused without env/ffi/read, never prompting or throwing", async () => {
  assert.equal(await loaded(["--allow-read", "--allow-env"]), "false", "no ffi");
  assert.equal(await loaded(["--allow-ffi"]), "false", "no env or read");
});

Deno.test("msgpack_native: with every permission it resolves to a boolean (add-on or not)", async () => {
  assert.match(await loaded(["--allow-all"]), /^(true|false)$/);
});
