// What a component posts to its host is untrusted: through a real worker component (and a
// real component process) placed as `serve` places them, every message shape a component
// can forge leaves the server up; an invalid one replaces the worker (its call fails with
// Unavailable, saying what was wrong), is logged once per kind, and a fresh worker serves
// the next call.
import assert from "node:assert/strict";
import { Server } from "../../../src/adapters/deno/server.ts";
import { connect } from "../../../src/client/connect.ts";
import { RpcError } from "../../../src/core/errors.ts";
import { loadComponents } from "../../../deploy.ts";
import type { Isolation } from "../../../src/host/placement.ts";
import { checkFromWorker } from "../../../src/host/isolate/from_component.ts";

const FORGER = new URL("../../fixtures/components/forger.ts", import.meta.url).href;

async function setup(isolate: Isolation = "worker") {
  const logged: string[] = [];
  const logger = { error: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };
  const server = new Server({ logger });
  const placed = await loadComponents([{ url: FORGER, isolate }], {
    client: () => server.router.client,
    logger,
  });
  server.register(...placed.implementations);
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
  const client = connect(http.url);
  return {
    client,
    logged,
    worker: placed.components[0].worker!,
    post: (messages: unknown[]): Promise<{ value?: unknown; error?: RpcError }> =>
      client.call("Forger.post", { messages }, { timeout: 20_000 }).then(
        (value) => ({ value }),
        (error: unknown) => {
          assert.ok(error instanceof RpcError, String(error));
          return { error };
        },
      ),
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
      await placed.close();
    },
  };
}

// Each of these once ended the host (a throw in its message handler) or went unnoticed.
const INVALID: [string, unknown, RegExp][] = [
  ["a log level not in the set", { type: "log", level: "nope", message: "x" }, /log message/],
  ["a prototype key as log level", { type: "log", level: "constructor", message: "x" }, /level/],
  ["a null outcome", { type: "result", id: 1, outcome: null }, /outcome is not an object/],
  ["a null error", { type: "result", id: 1, outcome: { ok: false, error: null } }, /error/],
  ["a null message", null, /not a plain object/],
  ["a string message", "ready", /not a plain object/],
  ["an unknown type", { type: "nope" }, /no known type/],
  ["a prototype key as type", { type: "__proto__" }, /no known type/],
  ["a call with odd fields", { type: "call", id: "x", method: 1 }, /call message whose id/],
  ["a pong without id", { type: "pong" }, /pong message whose id/],
  ["a cancel without id", { type: "cancel" }, /cancel message whose id/],
  ["a log without text", { type: "log", level: "warn", message: { toString: 1 } }, /text/],
  ["an invalid ready", { type: "ready", implementations: null }, /ready message/],
];

Deno.test("from component: a forged message of any shape leaves the server up", async () => {
  await using s = await setup();
  assert.equal((await s.post([])).value, "posted");
  let restarts = 0;
  for (const [what, message, problem] of INVALID) {
    const { error } = await s.post([message]);
    assert.ok(error, `${what}: the call should fail`);
    assert.equal(error.name, "Unavailable", `${what}: ${error.message}`);
    assert.match(error.message, /worker component .*forger\.ts sent /, what);
    assert.match(error.message, problem, what);
    // The server answers, and a fresh worker serves the next call.
    assert.equal(await s.client.call("Forger.hello"), "hello", what);
    assert.equal(s.worker.restarts, ++restarts, what);
  }
  // Logged once per kind of problem, not once per message.
  const before = s.logged.length;
  await s.post([{ type: "log", level: "nope", message: "again" }]);
  await s.post([{ type: "log", level: "info", message: "again" }]);
  assert.equal(s.logged.length, before, s.logged.join("\n"));
  assert.ok(
    s.logged.every((line) => !line.includes("again")),
    "the component's text is not logged",
  );
});

Deno.test("from component: valid but stray messages change nothing", async () => {
  await using s = await setup();
  const huge = "x".repeat(200 * 1024);
  const result = await s.post([
    // A result for a call nobody waits for (as after a timeout), a stray pong and start.
    { type: "result", id: 123456, outcome: { ok: true, value: 1 } },
    { type: "pong", id: 98765 },
    { type: "started", id: 4242 },
    // A valid log line, however long, is logged cut to a bound.
    { type: "log", level: "warn", message: huge },
  ]);
  assert.equal(result.value, "posted", result.error?.message);
  assert.equal(s.worker.restarts, 0);
  const line = s.logged.find((l) => l.startsWith("xxxx"));
  assert.ok(line && line.length < 20_000, `cut: ${line?.length}`);
});

Deno.test("from component: a component process's forged frames leave the server up", async () => {
  await using s = await setup("process");
  for (const message of [{ type: "log", level: "nope", message: "x" }, null]) {
    const { error } = await s.post([message]);
    assert.ok(error);
    assert.equal(error.name, "Unavailable");
    assert.match(error.message, /sent a (log message whose level|message that is not)/);
    assert.equal(await s.client.call("Forger.hello", {}, { timeout: 20_000 }), "hello");
  }
});

Deno.test("from component: a call that ends its process before it is heard to begin is not re-sent forever", async () => {
  await using s = await setup("process");
  await assert.rejects(
    () => s.client.call("Forger.garble", {}, { timeout: 60_000 }),
    (error: unknown) => {
      assert.ok(error instanceof RpcError, String(error));
      assert.equal(error.name, "Unavailable", error.message);
      assert.match(error.message, /its output could not be read/);
      return true;
    },
  );
  assert.equal(s.worker.restarts, 2, "sent to the first process and two replacements");
  assert.equal(await s.client.call("Forger.hello", {}, { timeout: 20_000 }), "hello");
});

Deno.test("from component: the check refuses what no worker entry sends, never throwing", () => {
  const cyclic: Record<string, unknown> = { kind: "array" };
  cyclic.items = cyclic;
  const iface = (result: unknown) => ({
    type: "ready",
    specifier: "data:,",
    implementations: [{
      iface: {
        name: "X",
        methods: { m: { params: {}, result, public: false, errors: [] } },
      },
    }],
  });
  let deep: Record<string, unknown> = { kind: "int" };
  for (let i = 0; i < 10_000; i++) deep = { kind: "array", items: deep };
  const getter = {
    get type() {
      throw new Error("boom");
    },
  };
  for (
    const bad of [
      iface(cyclic),
      iface(deep),
      iface({ kind: "nope" }),
      {
        ...iface({ kind: "int" }),
        implementations: [{ iface: { name: "__proto__", methods: {} } }],
      },
      new Map([["type", "pong"]]),
      getter,
      new Proxy({}, {
        getOwnPropertyDescriptor: () => {
          throw new Error("trap");
        },
      }),
      Object.create({ type: "pong", id: 1 }),
    ]
  ) {
    const checked = checkFromWorker(bad);
    assert.equal(checked.ok, false, String(bad));
  }
  // Shared types (a DAG) are read once each: a wide sharing costs nothing extra.
  let shared: Record<string, unknown> = { kind: "string" };
  for (let i = 0; i < 60; i++) {
    shared = { kind: "struct", name: "S", fields: { a: shared, b: shared } };
  }
  assert.equal(checkFromWorker(iface(shared)).ok, true);
});

Deno.test("from component: a ready message's once is a boolean, kept when true", () => {
  const ready = (once: unknown) => ({
    type: "ready",
    specifier: "data:,",
    implementations: [{
      iface: { name: "X", methods: {} },
      ...(once === undefined ? {} : { once }),
    }],
  });
  const implementations = (once: unknown) => {
    const checked = checkFromWorker(ready(once));
    assert.ok(checked.ok, String(once));
    return (checked.message as { implementations: { once?: boolean }[] }).implementations;
  };
  assert.equal(implementations(true)[0].once, true);
  assert.equal(implementations(false)[0].once, undefined);
  assert.equal(implementations(undefined)[0].once, undefined);
  for (const bad of ["yes", 1, null]) {
    const checked = checkFromWorker(ready(bad));
    assert.equal(checked.ok, false, String(bad));
  }
});
