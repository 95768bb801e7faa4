import assert from "node:assert/strict";
import { Server } from "../../../src/adapters/deno/server.ts";
import { connect } from "../../../src/client/connect.ts";
import type { Client } from "../../../src/core/client/client.ts";
import { RpcError } from "../../../src/core/errors.ts";
import { defineInterface, implement, method, t } from "../../../mod.ts";
import {
  ComponentError,
  type ComponentSpec,
  loadComponents,
  type PlacedComponents,
} from "../../../deploy.ts";
import { serveFixtures } from "../fixture_server.ts";

const SANDBOX = new URL("../../fixtures/components/sandbox.ts", import.meta.url).href;
const DENO_JSON = new URL("../../../deno.json", import.meta.url).pathname;
const Echo = defineInterface("Echo", {
  echo: method({ params: { text: t.string }, result: t.string }),
});

interface Setup {
  client: Client;
  placed: PlacedComponents;
  url: string;
  warnings: string[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** A server with the sandbox in a worker (plus an inline Echo), and a client over HTTP. */
async function setup(spec: Partial<ComponentSpec> = {}): Promise<Setup> {
  const warnings: string[] = [];
  const logger = { error: (m: string) => warnings.push(m), warn: (m: string) => warnings.push(m) };
  const server = new Server({ logger });
  const placed = await loadComponents(
    [{ url: SANDBOX, isolate: "worker", ...spec }],
    { client: () => server.router.client, logger },
  );
  server.register(...placed.implementations);
  server.register(implement(Echo, { echo: ({ text }) => `${text}!` }));
  const http = await server.listenHttp({ port: 0 });
  const client = connect(http.url);
  return {
    client,
    placed,
    url: http.url,
    warnings,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
      await placed.close();
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RpcError, String(error));
    return error;
  }
  assert.fail("expected the call to fail");
}

Deno.test("worker: calls cross the boundary transparently", async () => {
  await using s = await setup();
  assert.deepEqual(s.placed.report, [`loaded Sandbox (8 methods) from ${SANDBOX} in a worker`]);
  assert.equal(await s.client.call("Sandbox.hello"), "hello from a worker");
  // Dates survive the trip (structured clone), and the component's named error arrives.
  const at = await s.client.call("Sandbox.when", { at: { $date: "2020-01-01T00:00:00Z" } });
  assert.deepEqual(at, new Date("2020-01-01T00:00:01Z"));
  const refused = await rejection(s.client.call("Sandbox.fail", { message: "not today" }));
  assert.equal(refused.name, "Refused");
  assert.equal(refused.message, "not today");
  // ctx.client inside the worker reaches the host's other interfaces.
  assert.equal(await s.client.call("Sandbox.echoVia", { text: "via host" }), "via host!");
  // Params are still validated.
  assert.equal(
    (await rejection(s.client.call("Sandbox.readText", { path: 1 }))).name,
    "InvalidParams",
  );
});

Deno.test("worker: nothing is granted by default; the log says what to grant, the caller only that it was denied", async () => {
  await using s = await setup();
  const denied = await rejection(s.client.call("Sandbox.readText", { path: "deno.json" }));
  // A component's missing permission is not a caller's missing right (Forbidden, -32002).
  assert.equal(denied.name, "PermissionDenied");
  assert.equal(denied.code, -32007);
  assert.doesNotMatch(denied.message, /deno\.json|--allow|sandbox\.ts/);
  const offline = await rejection(s.client.call("Sandbox.fetchText", { url: s.url }));
  assert.equal(offline.name, "PermissionDenied");
  assert.doesNotMatch(offline.message, /127\.0\.0\.1/);
  const log = s.warnings.join("\n");
  assert.match(
    log,
    /Sandbox\.readText: .*sandbox\.ts was denied: Requires read access to "deno\.json"; to grant it, add --allow-read=deno\.json after --component .*sandbox\.ts/,
  );
  assert.match(log, /Sandbox\.fetchText: .*add --allow-net=127\.0\.0\.1:\d+ after --component/);
  assert.doesNotMatch(log, /run again with/);
});

Deno.test("worker: granted access works, and only what was granted", async () => {
  const dir = await Deno.makeTempDir();
  const fixtures = await serveFixtures();
  try {
    await Deno.writeTextFile(`${dir}/allowed.txt`, "granted");
    const host = new URL(fixtures.origin).host;
    await using s = await setup({ permissions: { read: [dir], net: [host] } });
    assert.equal(
      await s.client.call("Sandbox.readText", { path: `${dir}/allowed.txt` }),
      "granted",
    );
    const outside = await rejection(s.client.call("Sandbox.readText", { path: DENO_JSON }));
    assert.equal(outside.name, "PermissionDenied");
    const text = await s.client.call("Sandbox.fetchText", {
      url: fixtures.url("remote/lib/pad.ts"),
    });
    assert.match(String(text), /export function pad/);
    const other = await rejection(s.client.call("Sandbox.fetchText", { url: s.url }));
    assert.equal(other.name, "PermissionDenied"); // the server's own port was not granted
  } finally {
    await fixtures.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("worker: a call stuck in a loop is cut off; the server keeps answering", async () => {
  await using s = await setup({ deadline: 60_000 });
  const stuck = rejection(s.client.call("Sandbox.spin", {}, { timeout: 500 }));
  await new Promise((resolve) => setTimeout(resolve, 100));
  // Queued behind the stuck call, never begun: re-sent to the replacement worker.
  const queued = s.client.call("Sandbox.hello", {}, { timeout: 20_000 });
  // While the worker spins, the server answers other calls.
  assert.equal(await s.client.call("Echo.echo", { text: "still here" }), "still here!");
  const timeout = await stuck;
  assert.equal(timeout.name, "Timeout");
  assert.equal(await queued, "hello from a worker");
  // The next call gets a fresh worker.
  assert.equal(
    await s.client.call("Sandbox.hello", {}, { timeout: 20_000 }),
    "hello from a worker",
  );
  assert.equal(s.placed.components[0].worker?.restarts, 1);
  assert.match(
    s.warnings.join("\n"),
    /stopped responding after Sandbox\.spin overran its deadline/,
  );
});

Deno.test("worker: its own deadline bounds calls that allow more", async () => {
  await using s = await setup({ deadline: 800 });
  const timeout = await rejection(s.client.call("Sandbox.spin", {}, { timeout: 20_000 }));
  assert.equal(timeout.name, "Timeout");
  assert.match(
    timeout.message,
    /Sandbox\.spin exceeded its deadline in worker component .*sandbox\.ts/,
  );
  assert.equal(
    await s.client.call("Sandbox.hello", {}, { timeout: 20_000 }),
    "hello from a worker",
  );
});

Deno.test("worker: an uncaught error ends only the worker; in-flight calls fail clearly", async () => {
  await using s = await setup();
  const crashed = await rejection(s.client.call("Sandbox.crash", {}, { timeout: 20_000 }));
  assert.equal(crashed.name, "Unavailable");
  assert.match(crashed.message, /sandbox\.ts crashed: Uncaught Error: boom outside any call/);
  assert.equal(await s.client.call("Sandbox.hello"), "hello from a worker");
  assert.equal(await s.client.call("Echo.echo", { text: "alive" }), "alive!");
});

Deno.test("worker: a component that cannot load is reported with its URL", async () => {
  const broken = new URL("../../fixtures/components/throws_on_load.ts", import.meta.url).href;
  await assert.rejects(
    loadComponents([{ url: broken, isolate: "worker" }]),
    (error: Error) => {
      assert.ok(error instanceof ComponentError);
      assert.match(
        error.message,
        /cannot load component .*throws_on_load\.ts in a worker: .*database not configured/,
      );
      return true;
    },
  );
});

Deno.test("placement: two components implementing one interface are refused", async () => {
  await assert.rejects(
    loadComponents([{ url: SANDBOX, isolate: "worker" }, { url: SANDBOX }]),
    /interface Sandbox is implemented by both .*sandbox\.ts and .*sandbox\.ts/,
  );
});

Deno.test("worker: a component graph served over http, naming Switchboard by its JSR name", async () => {
  const fixtures = await serveFixtures();
  try {
    const url = fixtures.url("remote/inventory.ts");
    await assert.rejects(
      loadComponents([{ url, isolate: "worker" }]),
      /refusing to load http:.*--allow-insecure-http/,
    );
    // The worker fetches the graph below the root itself: it needs the origin granted.
    await assert.rejects(
      loadComponents([{ url, isolate: "worker", allowInsecureHttp: true }]),
      /lib\/\w+\.ts.*Requires net access to "127\.0\.0\.1:\d+".*add --allow-net=127\.0\.0\.1:\d+ after --component/,
    );
    const placed = await loadComponents([{
      url,
      isolate: "worker",
      allowInsecureHttp: true,
      permissions: { net: [new URL(fixtures.origin).host] },
    }]);
    try {
      const server = new Server().register(...placed.implementations);
      const result = await server.router.dispatch({
        method: "Inventory.label",
        params: { item: "kite" },
      });
      assert.deepEqual(result, { ok: true, value: ".......KITE!", plain: true });
    } finally {
      await placed.close();
    }
  } finally {
    await fixtures.close();
  }
});

Deno.test("worker: servers and transports are not in a worker; using one says so", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/c.ts`,
      `import { defineInterface, implement, method, t } from "@switchboard/rpc";
import { Server } from "@switchboard/rpc/server";
export default implement(defineInterface("Nested", { start: method({ result: t.string }) }), {
  start: () => { new Server(); return "started"; },
});`,
    );
    const logged: string[] = [];
    const logger = { error: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };
    const placed = await loadComponents([{ url: `${dir}/c.ts`, isolate: "worker" }], {
      debug: true,
      logger,
    });
    try {
      const server = new Server({ debug: true, logger });
      server.register(...placed.implementations);
      const result = await server.router.dispatch({ method: "Nested.start", params: {} });
      assert.equal(result.ok, false);
      assert.match(
        !result.ok ? result.error.message : "",
        /Server \(from @switchboard\/rpc\) is not available inside a worker component; call other interfaces through ctx\.client/,
      );
      // The worker's own report of the failure reaches the host's logger.
      assert.match(logged.join("\n"), /internal error in Nested\.start: Error: Server \(from/);
    } finally {
      await placed.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
