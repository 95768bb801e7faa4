// wss://: an HTTPS listener with WebSockets on takes JSON-RPC over TLS; a Deno client that
// trusts the test CA (`--cert`, as a WebSocket has no per-connection CA option) calls it.
import assert from "node:assert/strict";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { Server } from "../../server.ts";
import { makeCerts, SKIP_TLS } from "../fixtures/tls_certs.ts";

const Desk = defineInterface("Desk", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
});

Deno.test({ name: "ws: wss:// on an HTTPS listener", ignore: SKIP_TLS }, async () => {
  const certs = await makeCerts();
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(implement(Desk, { add: ({ a, b }) => a + b }));
  try {
    const https = await server.listenHttp(
      { port: 0, tls: { cert: certs.cert, key: certs.key } },
      { websocket: true },
    );
    const url = https.url.replace("https", "wss");
    const script = `import { connect } from "${new URL("../../mod.ts", import.meta.url).href}";
const client = connect(${JSON.stringify(url)});
console.log(await client.call("Desk.add", { a: 20, b: 22 }));
await client.close();`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--cert", certs.files.ca, script],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "42");
  } finally {
    await server.close();
    await certs.remove();
  }
});
