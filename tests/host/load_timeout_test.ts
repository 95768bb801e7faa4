// A component whose top-level code never settles: `switchboard serve` (a real process)
// fails after the load timeout with a message naming the component, whether it loads
// inline or in a worker, instead of sitting without listeners and without a word.
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const NEVER = new URL("../fixtures/components/never_loads.ts", import.meta.url).pathname;

async function serveUntilExit(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "serve", "--http", "127.0.0.1:0", "--tcp", "off", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  // Bounded: a serve that never exits is killed, and the test then fails on its status.
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  return { status, output: stdout + stderr };
}

for (const isolate of ["inline", "worker"]) {
  Deno.test(`load timeout: serve fails naming a component (${isolate}) that never loads`, async () => {
    const { status, output } = await serveUntilExit([
      "--component",
      NEVER,
      "--isolate",
      isolate,
      "--load-timeout",
      "2000",
    ]);
    assert.equal(status.signal, null, `serve had to be killed:\n${output}`);
    assert.equal(status.code, 1, output);
    assert.match(output, /cannot load component file:\/\/.*never_loads\.ts/);
    assert.match(output, /did not finish loading within 2000 ms/);
    assert.doesNotMatch(output, /listening on/);
  });
}
