// The access log: one structured line per call from `serve` (JSON and text), levels,
// params only on request, and never a secret — a password login's proof, or a param
// that names itself a secret, with --log-params on.

import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import "../../src/adapters/deno/all_transports.ts";
import { AuthGate } from "../../src/auth/gate.ts";
import { passwordBackend, passwordCredentials } from "../../src/auth/password.ts";
import { Server } from "../../src/adapters/deno/server.ts";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { AccessLog } from "../../src/observe/access_log.ts";
import { instrument } from "../../src/observe/instrument.ts";
import { startServe } from "../fixtures/serve_process.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

Deno.test({
  ...opts,
  name: "access log: serve writes one JSON line per call; no params unless asked",
  async fn() {
    const served = await startServe([]);
    const client = connect(served.url);
    try {
      assert.equal(await client.call("Calculator.add", { a: 2, b: 3 }), 5);
      await assert.rejects(client.call("Calculator.add", { a: "x", b: 3 }));
    } finally {
      await client.close();
    }
    const calls = jsonLines(await served.stop()).filter((l) => l.msg === "call");
    assert.equal(calls.length, 2);
    const [ok, bad] = calls;
    assert.equal(ok.level, "info");
    assert.equal(ok.protocol, "jsonrpc");
    assert.equal(ok.peer, "127.0.0.1");
    assert.equal(ok.method, "Calculator.add");
    assert.equal(ok.code, 0);
    assert.equal(typeof ok.ms, "number");
    assert.ok(!Number.isNaN(Date.parse(ok.time as string)));
    assert.equal(bad.level, "warn");
    assert.equal(bad.code, -32602);
    assert.equal(bad.error, "InvalidParams");
    assert.ok(!("params" in ok) && !("result" in ok), "no params or results by default");
  },
});

Deno.test({
  ...opts,
  name: "access log: --log-format text, --log-level warn keeps failures only, --log-params",
  async fn() {
    const served = await startServe([
      "--log-format",
      "text",
      "--log-level",
      "warn",
      "--log-params",
    ]);
    const client = connect(served.url);
    try {
      await client.call("Calculator.add", { a: 2, b: 3 });
      await assert.rejects(client.call("Calculator.divide", { a: 1, b: 0 }));
    } finally {
      await client.close();
    }
    const lines = (await served.stop()).split("\n").filter((l) => / msg=call /.test(l));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(
      lines[0],
      /^\S+Z WARN msg=call protocol=jsonrpc peer=127\.0\.0\.1 method=Calculator\.divide /,
    );
    assert.match(lines[0], / params=\{"a":1,"b":0\}/);
  },
});

Deno.test({
  ...opts,
  name: "access log: bad flags are usage errors",
  async fn() {
    await assert.rejects(
      startServe(["--log-format", "xml"]),
      /--log-format: expected json or text/,
    );
    await assert.rejects(startServe(["--log-level", "loud"]), /--log-level: expected/);
  },
});

const Vault = defineInterface("Vault", {
  open: method({ params: { name: t.string, password: t.string }, result: t.string }),
});

Deno.test({
  ...opts,
  name: "access log: a password login's proof and secret params never appear, even with params on",
  async fn() {
    const PASSWORD = "correct horse battery staple";
    const SECRET_PARAM = "the-vault-combination-1234";
    let text = "";
    const log = new AccessLog({ write: (t) => text += t, params: true, level: "debug" });
    const server = new Server({ logger: log });
    server.register(implement(Vault, { open: ({ name }) => `opened ${name}` }));
    instrument(server.router, { log });
    const gate = new AuthGate([
      passwordBackend((user, password) => password === PASSWORD ? { id: user } : undefined),
    ]);
    const tcp = await server.listenTcp({ port: 0 }, { auth: gate });
    const client = connect(tcp.url, { auth: passwordCredentials("alice", PASSWORD) });
    try {
      assert.equal(
        await client.call("Vault.open", { name: "v1", password: SECRET_PARAM }),
        "opened v1",
      );
      const wrong = connect(tcp.url, { auth: passwordCredentials("mallory", "guess-" + PASSWORD) });
      await assert.rejects(wrong.call("Vault.open", { name: "v1", password: "x" }));
      await wrong.close();
    } finally {
      await client.close();
      await server.close();
    }
    const calls = jsonLines(text).filter((l) => l.msg === "call");
    assert.equal(calls.length, 1, text);
    assert.equal(calls[0].caller, "alice");
    assert.equal(calls[0].protocol, "msgpack-rpc");
    assert.match(calls[0].peer as string, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(calls[0].params, { name: "v1", password: "[redacted]" });
    assert.equal(calls[0].result, "opened v1");
    assert.ok(!text.includes(PASSWORD), "the login's password");
    assert.ok(!text.includes(SECRET_PARAM), "a secret param");
    assert.ok(!text.includes("auth.login"), "logins are not calls");
  },
});

Deno.test({
  ...opts,
  name: "access log: a streamed result logs as [stream] with params on, not its machinery",
  async fn() {
    let text = "";
    const log = new AccessLog({ write: (t) => text += t, params: true, level: "debug" });
    const server = new Server({ logger: log });
    const Ticks = defineInterface("Ticks", {
      count: method({ params: { n: t.int }, result: t.stream(t.int) }),
    });
    server.register(implement(Ticks, {
      async *count({ n }) {
        for (let i = 0; i < n; i++) yield i;
      },
    }));
    instrument(server.router, { log });
    const tcp = await server.listenTcp({ port: 0 });
    const client = connect(tcp.url);
    try {
      const got: number[] = [];
      for await (const i of client.proxy(Ticks).count({ n: 2 })) got.push(i);
      assert.deepEqual(got, [0, 1]);
    } finally {
      await client.close();
      await server.close();
    }
    const calls = jsonLines(text).filter((l) => l.msg === "call");
    assert.equal(calls.length, 1, text);
    assert.equal(calls[0].result, "[stream]");
  },
});
