// One way down: the runtime-free folders (core, wire, client, server) never import Deno's
// adapter; the adapter composes them. Read from the source's import specifiers, so a new
// file that imports upward fails here before anyone reviews it.
import assert from "node:assert/strict";

const SRC = new URL("../../src/", import.meta.url);
const RUNTIME_FREE = ["core", "wire", "client", "server"];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

async function* files(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* files(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

/** Every relative import of the runtime-free folders that lands in `src/adapters/`. */
async function upwardImports(): Promise<string[]> {
  const found: string[] = [];
  for (const folder of RUNTIME_FREE) {
    for await (const file of files(new URL(`${folder}/`, SRC))) {
      // Comments may name the adapter; only code counts.
      const code = (await Deno.readTextFile(file)).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      for (const [, specifier] of code.matchAll(IMPORT)) {
        if (!specifier.startsWith(".")) continue;
        const target = new URL(specifier, file).href;
        if (target.startsWith(new URL("adapters/", SRC).href)) {
          found.push(`${file.href.slice(SRC.href.length)} imports ${specifier}`);
        }
      }
    }
  }
  return found;
}

Deno.test("layers: core, wire, client and server import nothing of src/adapters/", async () => {
  assert.deepEqual(await upwardImports(), []);
});

Deno.test("layers: the check sees an upward import", async () => {
  const probe = new URL("server/_layers_probe.ts", SRC);
  await Deno.writeTextFile(probe, 'import { dial } from "../adapters/deno/tcp.ts";\nvoid dial;\n');
  try {
    assert.deepEqual(await upwardImports(), [
      "server/_layers_probe.ts imports ../adapters/deno/tcp.ts",
    ]);
  } finally {
    await Deno.remove(probe);
  }
});
