// Whether listeners may share a port: read before trying, because Deno exits a process that
// asks for reusePort without --unstable-net instead of throwing.

import assert from "node:assert/strict";
import { reusePortRefusal } from "../../../src/adapters/deno/reuse_port.ts";

const MODULE = new URL("../../../src/adapters/deno/reuse_port.ts", import.meta.url).href;

async function refusalIn(flags: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--no-config",
      ...flags,
      `import { reusePortRefusal } from "${MODULE}"; console.log(JSON.stringify(reusePortRefusal() ?? null));`,
    ],
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test({
  name: "reuse_port: allowed on Linux with --unstable-net, and two listeners then share a port",
  ignore: Deno.build.os !== "linux",
  fn: () => {
    assert.equal(reusePortRefusal(), undefined, "the test runs with deno.json's unstable net");
    const first = Deno.listen({ hostname: "127.0.0.1", port: 0, reusePort: true });
    const second = Deno.listen({ hostname: "127.0.0.1", port: first.addr.port, reusePort: true });
    assert.equal(second.addr.port, first.addr.port);
    first.close();
    second.close();
  },
});

Deno.test({
  name: "reuse_port: without --unstable-net the refusal names the flag (and the process lives)",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    assert.equal(
      await refusalIn([]),
      JSON.stringify(
        "sharing a port among workers (SO_REUSEPORT) needs Deno's --unstable-net flag",
      ),
    );
    assert.equal(await refusalIn(["--unstable-net"]), "null");
  },
});
