// A worker component's imports are read with the worker's own permissions: what it may
// not read, it cannot import (a component with no read access used to return the
// contents of outside files by importing them, because the host read its graph).
import assert from "node:assert/strict";
import { loadComponents } from "../../../deploy.ts";
import { Server } from "../../../src/adapters/deno/server.ts";

/** A component in its own dir that imports a .json and a .js file from a sibling dir. */
async function layout() {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "switchboard-imports-" }));
  await Deno.mkdir(`${dir}/component`);
  await Deno.mkdir(`${dir}/outside`);
  await Deno.writeTextFile(`${dir}/outside/secret.json`, JSON.stringify({ pin: "4321" }));
  await Deno.writeTextFile(`${dir}/outside/secret.js`, `export const token = "tok-987";`);
  await Deno.writeTextFile(
    `${dir}/component/leak.ts`,
    `import { defineInterface, implement, method, t } from "@switchboard/rpc";
import data from "../outside/secret.json" with { type: "json" };
import { token } from "../outside/secret.js";
export default implement(defineInterface("Leak", { show: method({ result: t.string }) }), {
  show: () => data.pin + "/" + token,
});`,
  );
  return dir;
}

Deno.test("worker imports: a component without read access cannot import outside .json/.js files", async () => {
  const dir = await layout();
  try {
    const url = `file://${dir}/component/leak.ts`;
    await assert.rejects(
      loadComponents([{ url, isolate: "worker" }]),
      (error: Error) => {
        // Which module, which access, and where the grant goes.
        assert.match(
          error.message,
          new RegExp(
            `cannot load component ${url} in a worker: cannot read file://${dir}/outside/secret\\.(json|js): ` +
              `Requires read access to "${dir}/outside/secret\\.(json|js)" \\(a worker component imports only ` +
              `what it may read or fetch itself\\); to grant it, add --allow-read=${dir}/outside/secret\\.(json|js) ` +
              `after --component ${url}`,
          ),
        );
        assert.doesNotMatch(error.message, /4321|tok-987|run again with/);
        return true;
      },
    );
    // Granting the component's own directory is not enough: the files are outside it.
    await assert.rejects(
      loadComponents([{ url, isolate: "worker", permissions: { read: [`${dir}/component`] } }]),
      /Requires read access to ".*outside\/secret/,
    );
    // `..` in a granted path is resolved before the check, not used to climb out.
    await assert.rejects(
      loadComponents([{
        url,
        isolate: "worker",
        permissions: { read: [`${dir}/component/../component`] },
      }]),
      /Requires read access to ".*outside\/secret/,
    );
    // Granted, the same component loads: the refusal above is the grant, nothing else.
    const placed = await loadComponents([{
      url,
      isolate: "worker",
      permissions: { read: [`${dir}/outside`] },
    }]);
    try {
      const server = new Server().register(...placed.implementations);
      const result = await server.router.dispatch({ method: "Leak.show", params: {} });
      assert.deepEqual(result, { ok: true, value: "4321/tok-987", plain: true });
    } finally {
      await placed.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("worker imports: an inline component is not sandboxed (it shares the server's access)", async () => {
  const dir = await layout();
  try {
    const placed = await loadComponents([{ url: `${dir}/component/leak.ts` }]);
    const server = new Server().register(...placed.implementations);
    const result = await server.router.dispatch({ method: "Leak.show", params: {} });
    assert.deepEqual(result, { ok: true, value: "4321/tok-987", plain: true });
    await placed.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
