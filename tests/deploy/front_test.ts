import assert from "node:assert/strict";
import { AuthGate, Server, sharedSecretBackend } from "../../server.ts";
import { connect, sharedSecretCredentials } from "../../mod.ts";
import { MultiClient } from "../../deploy.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { frontImplementations, publicPart } from "../../src/deploy/front.ts";
import greeter, { Greeter } from "./fixtures/greeter.ts";
import { Vault } from "./fixtures/private_only.ts";

const quiet = { logger: { error: () => {}, warn: () => {} } };

/** A backend serving Greeter behind the secret, and a front forwarding to it. */
async function setup() {
  const backend = new Server(quiet);
  let calls = 0;
  backend.router.use((inv, next) => {
    if (inv.call.method.startsWith("Greeter.")) calls++;
    return next();
  });
  backend.register(greeter);
  const tcp = await backend.listenTcp({ port: 0 }, {
    auth: new AuthGate([sharedSecretBackend("s3cret")]),
  });
  const client = new MultiClient({
    routes: { Greeter: [{ url: tcp.url, process: "backend" }] },
    connect: { auth: sharedSecretCredentials("s3cret", "front") },
  });
  const front = new Server(quiet);
  front.register(...frontImplementations([Greeter, Vault], client));
  const http = await front.listenHttp({ port: 0 });
  return {
    http,
    backend,
    calls: () => calls,
    async close() {
      await front.close();
      await client.close();
      await backend.close();
    },
  };
}

Deno.test("publicPart keeps only public methods, or nothing", () => {
  assert.deepEqual(Object.keys(publicPart(Greeter)!.methods), ["hello", "protocol"]);
  assert.equal(publicPart(Vault), undefined);
});

Deno.test("the front forwards public methods to the owning process", async () => {
  const s = await setup();
  const caller = connect(s.http.url);
  assert.equal(await caller.call("Greeter.hello", { name: "Ada" }), "hello Ada");
  // The hop behind the front is the deployment's own protocol, not the caller's.
  assert.equal(await caller.call("Greeter.protocol"), "msgpack-rpc");
  assert.equal(s.calls(), 2);
  await caller.close();
  await s.close();
});

Deno.test("the front exposes no private method and describes only public ones", async () => {
  const s = await setup();
  const caller = connect(s.http.url);
  await assert.rejects(caller.call("Greeter.internal"), { name: "MethodNotFound" });
  await assert.rejects(caller.call("Vault.open"), { name: "MethodNotFound" });
  const doc = await caller.call("rpc.discover") as { methods: { name: string }[] };
  const names = doc.methods.map((m) => m.name).filter((n) =>
    !n.startsWith("system.") && !n.startsWith("rpc.")
  );
  assert.deepEqual(names, ["Greeter.hello", "Greeter.protocol"]);
  assert.equal(s.calls(), 0);
  await caller.close();
  await s.close();
});

Deno.test("the front validates params itself: bad input never reaches the process", async () => {
  const s = await setup();
  const caller = connect(s.http.url);
  await assert.rejects(caller.call("Greeter.hello", { name: 42 }), (error: Error) => {
    assert.equal(error.name, "InvalidParams");
    assert.match(error.message, /name/);
    return true;
  });
  assert.equal(s.calls(), 0);
  await caller.close();
  await s.close();
});

Deno.test("an outage behind the front is a clear Unavailable error, not a hang", async () => {
  const s = await setup();
  const caller = connect(s.http.url, { timeout: 20_000 });
  assert.equal(await caller.call("Greeter.hello", { name: "Ada" }), "hello Ada");
  await s.backend.close();
  await assert.rejects(caller.call("Greeter.hello", { name: "Ada" }), (error: Error) => {
    assert.equal(error.name, "Unavailable");
    assert.match(error.message, /process backend at tcp:\/\/127\.0\.0\.1:\d+ is unavailable/);
    return true;
  });
  await caller.close();
  await s.close();
});
