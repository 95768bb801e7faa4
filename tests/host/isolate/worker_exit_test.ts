// A worker component that ends its own worker (self.close(), Deno.exit()) is noticed at
// once: its running call fails with Unavailable saying how it ended, not when the call
// times out, and a fresh worker serves the next call.
import assert from "node:assert/strict";
import { Server } from "../../../src/adapters/deno/server.ts";
import { connect } from "../../../src/client/connect.ts";
import { RpcError } from "../../../src/core/errors.ts";
import { loadComponents } from "../../../deploy.ts";

const FORGER = new URL("../../fixtures/components/forger.ts", import.meta.url).href;

for (
  const [how, method, params, said] of [
    ["self.close()", "Forger.close", {}, /ended its worker \(self\.close\(\)\)/],
    ["Deno.exit(3)", "Forger.exit", { code: 3 }, /ended its worker \(Deno\.exit\(3\)\)/],
  ] as const
) {
  Deno.test(`worker exit: a component that calls ${how} fails its call at once`, async () => {
    const logged: string[] = [];
    const logger = { error: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };
    const server = new Server({ logger });
    // The worker's own deadline is far beyond the client's: only noticing the exit can
    // fail the call before the client gives up.
    const placed = await loadComponents([{ url: FORGER, isolate: "worker", deadline: 120_000 }], {
      client: () => server.router.client,
      logger,
    });
    server.register(...placed.implementations);
    const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
    const client = connect(http.url);
    try {
      assert.equal(await client.call("Forger.hello"), "hello");
      await assert.rejects(
        () => client.call(method, params, { timeout: 20_000 }),
        (error: unknown) => {
          assert.ok(error instanceof RpcError, String(error));
          assert.equal(error.name, "Unavailable", error.message);
          assert.match(error.message, said);
          return true;
        },
      );
      assert.ok(logged.some((line) => said.test(line)), logged.join("\n"));
      // A fresh worker serves the next call.
      assert.equal(await client.call("Forger.hello", {}, { timeout: 20_000 }), "hello");
      assert.equal(placed.components[0].worker!.restarts, 1);
    } finally {
      await client.close();
      await server.close();
      await placed.close();
    }
  });
}
