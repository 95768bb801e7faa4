// Addresses as people get them wrong, through the real `switchboard` process: a listener
// address another process holds, and a server URL pasted without its scheme.

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";

const MAIN = fromFileUrl(new URL("../../main.ts", import.meta.url));

async function cli(...args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

function oneLine(text: string): string {
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line:\n${text}`);
  return lines[0];
}

Deno.test("serve: an address in use is one line naming it and its flag, exit 1", async () => {
  using held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = held.addr.port;
  const [tcp, http, second] = await Promise.all([
    cli("serve", "--http", "off", "--tcp", `127.0.0.1:${port}`),
    cli("serve", "--http", `127.0.0.1:${port}`, "--tcp", "off"),
    // The HTTP listener opens first; the TCP one fails, and the process still ends.
    cli("serve", "--http", "127.0.0.1:0", "--tcp", `127.0.0.1:${port}`),
  ]);
  assert.equal(tcp.code, 1, tcp.stderr);
  assert.equal(
    oneLine(tcp.stderr),
    `switchboard serve: 127.0.0.1:${port} is already in use (--tcp)`,
  );
  assert.equal(tcp.stdout, "");
  assert.equal(http.code, 1, http.stderr);
  assert.equal(
    oneLine(http.stderr),
    `switchboard serve: 127.0.0.1:${port} is already in use (--http)`,
  );
  assert.equal(second.code, 1, second.stderr);
  assert.equal(
    oneLine(second.stderr),
    `switchboard serve: 127.0.0.1:${port} is already in use (--tcp)`,
  );
  assert.match(second.stdout, /^listening on http:\/\/127\.0\.0\.1:\d+ /);
});

Deno.test("call/describe: a server address without a scheme says to add http://, exit 2", async () => {
  const cases: [string[], string][] = [
    [["call", "127.0.0.1:8080", "Calculator.add", "[1, 2]"], "127.0.0.1:8080"],
    [["call", "localhost:8080/rpc", "Calculator.add"], "localhost:8080/rpc"],
    [["describe", "[::1]:8080"], "[::1]:8080"],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(...args)));
  results.forEach((r, i) => {
    const [args, address] = cases[i];
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(
      oneLine(r.stderr),
      `switchboard ${args[0]}: ${address} has no scheme; add http:// (http://${address}) ` +
        `for JSON-RPC and XML-RPC, or tcp:// for msgpack-rpc`,
    );
    assert.equal(r.stdout, "");
  });
  const garbage = await cli("call", "http//127.0.0.1", "A.b");
  assert.equal(garbage.code, 2);
  assert.equal(
    oneLine(garbage.stderr),
    'switchboard call: "http//127.0.0.1" is not a URL (e.g. http://127.0.0.1:8080)',
  );
});
