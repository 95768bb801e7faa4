// Reading component modules is bounded and never echoes them: through a real
// `switchboard serve` process, a file that is no module (like `/proc/self/environ`: secrets
// in plain text) fails without its text in the error, and a device that never ends
// (`/dev/zero`) is refused at once, inline, bundled and in a worker alike.
import assert from "node:assert/strict";
import { withoutSourceText } from "../../../src/host/load/module_bytes.ts";

const ROOT = new URL("../../../", import.meta.url);
const SECRET = "hunter2-not-for-logs";

async function serve(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "serve", "--http", "127.0.0.1:0", "--tcp", "off", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  // Bounded: a serve still reading after this is killed, and the test fails on its status.
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  return { status, output: stdout + stderr };
}

for (const loader of [[], ["--loader", "bundled"], ["--isolate", "worker"]]) {
  const how = loader.join(" ") || "native";
  Deno.test(`module bytes: a file that is no module is not echoed (${how})`, async () => {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/environ.ts`;
    await Deno.writeTextFile(file, `TOKEN=${SECRET} HOME=/root PATH=/usr/bin`);
    try {
      const { status, output } = await serve(["--component", file, ...loader]);
      assert.equal(status.code, 1, output);
      assert.match(output, /environ\.ts/);
      assert.ok(!output.includes(SECRET), output);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });

  Deno.test(`module bytes: a device that never ends is refused (${how})`, async () => {
    const { status, output } = await serve(["--component", "/dev/zero", ...loader]);
    assert.equal(status.signal, null, `serve had to be killed:\n${output}`);
    assert.equal(status.code, 1, output);
    assert.match(output, /cannot read file:\/\/\/dev\/zero: it is not a regular file/);
  });
}

Deno.test("module bytes: error texts keep the position, not the source", () => {
  const native =
    "SyntaxError: Expected ';'\n  |\n1 | SECRET=1 B=2\n  |       ~\n    at file:///x:1:7";
  assert.equal(withoutSourceText(native), "SyntaxError: Expected ';'\n    at file:///x:1:7");
  assert.equal(
    withoutSourceText(`Unexpected token 'S', "SECRET=1"... is not valid JSON`),
    "not valid JSON",
  );
  assert.equal(withoutSourceText("Unexpected character 'S' (1:1)"), "Unexpected character (1:1)");
});
