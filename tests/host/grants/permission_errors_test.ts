// What an operator reads when a worker component's permissions do not fit the server.
import assert from "node:assert/strict";

const ROOT = new URL("../../../", import.meta.url);
const SANDBOX = new URL("../../fixtures/components/sandbox.ts", import.meta.url).pathname;

/** Runs `switchboard serve` with the flags of `deno task start` and the given extras. */
async function serveLikeTheTask(extra: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    // The flags of `deno task start` (deno.json): no --allow-write.
    args: [
      "run",
      "--no-lock",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      "main.ts",
      "serve",
      "--http",
      "127.0.0.1:0",
      "--tcp",
      "off",
      ...extra,
    ],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, output: decode(stdout) + decode(stderr) };
}

Deno.test("permission errors: a worker granted what its server lacks names the server's missing flag", async () => {
  const { code, output } = await serveLikeTheTask([
    "--component",
    SANDBOX,
    "--isolate",
    "worker",
    "--allow-write=/tmp",
  ]);
  assert.notEqual(code, 0);
  assert.match(
    output,
    /this server process itself runs without --allow-write=\/tmp, and a worker can only be granted what its server has: start the server with --allow-write=\/tmp too/,
  );
  // The unstable flag is on (deno.json): blaming it would send the operator astray.
  assert.doesNotMatch(output, /--unstable-worker-options/);
});

Deno.test("permission errors: a component denied a read while loading says where the grant goes", async () => {
  const { loadComponents } = await import("../../../deploy.ts");
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    await Deno.writeTextFile(`${dir}/config.txt`, "x");
    await Deno.writeTextFile(
      `${dir}/c.ts`,
      `import { defineInterface, implement, method, t } from "@switchboard/rpc";
const config = Deno.readTextFileSync(${JSON.stringify(`${dir}/config.txt`)});
export default implement(defineInterface("Conf", { get: method({ result: t.string }) }), {
  get: () => config,
});`,
    );
    await assert.rejects(
      loadComponents([{ url: `${dir}/c.ts`, isolate: "worker" }]),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            `Requires read access to "${dir}/config\\.txt"; to grant it, add ` +
              `--allow-read=${dir}/config\\.txt after --component file://${dir}/c\\.ts`,
          ),
        );
        assert.doesNotMatch(error.message, /run again with/);
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
