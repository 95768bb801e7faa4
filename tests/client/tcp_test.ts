import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import { Server } from "../../server.ts";
import type { TcpTransport } from "../../tcp.ts";
import { demoComponents } from "../../src/demo/mod.ts";
import { demoServer, eventually } from "../server/tcp_fixture.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function cli(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("connect('tcp://…') reconnects on the next call after the server went away", async () => {
  const first = await demoServer();
  const port = first.tcp.port;
  const client = connect(first.tcp.url);
  const transport = client.transport as TcpTransport;
  try {
    assert.equal(await client.call("Demo.echo", { value: 1 }), 1);
    assert.equal(transport.connected, true);
    await first.close();
    await eventually(() => !transport.connected, "the client to notice the drop");
  } catch (error) {
    await client.close();
    throw error;
  }
  // Nothing listens now: a call fails fast and clearly.
  await assert.rejects(client.call("Demo.echo", { value: 3 }), {
    name: "Unavailable",
    message: /cannot connect to tcp:\/\/127\.0\.0\.1:\d+/,
  });
  const second = await demoServer({}, { port });
  try {
    assert.equal(await client.call("Demo.echo", { value: 4 }), 4);
  } finally {
    await client.close();
    await second.close();
  }
});

Deno.test("calls waiting on a connection that drops fail with Unavailable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = connect(`tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`, {
    hello: false,
  });
  try {
    const call = client.call("Anything.at_all", []);
    const conn = await listener.accept();
    // Read the request, then hang up without answering.
    await conn.read(new Uint8Array(1024));
    conn.close();
    await assert.rejects(call, { name: "Unavailable", message: /closed by the peer/ });
  } finally {
    await client.close();
    listener.close();
  }
});

Deno.test("a closed client refuses calls; close is idempotent", async () => {
  const { tcp, close } = await demoServer();
  const client = connect(tcp.url);
  try {
    assert.equal(await client.call("Demo.echo", { value: "x" }), "x");
    await client.close();
    await client.close();
    await assert.rejects(client.call("Demo.echo", { value: "y" }), {
      name: "Unavailable",
      message: "the client is closed",
    });
  } finally {
    await close();
  }
});

Deno.test("the CLI's call and describe accept tcp:// URLs", async () => {
  const server = new Server();
  server.register(...demoComponents);
  const tcp = await server.listenTcp({ port: 0 });
  try {
    const call = await cli("call", tcp.url, "Calculator.add", '{"a":2,"b":3}');
    assert.equal(call.code, 0, call.stderr);
    assert.equal(call.stdout.trim(), "5");
    const describe = await cli("describe", tcp.url);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /Calculator/);
    assert.match(describe.stdout, /add\(a: int, b: int\) -> int/);
    const missing = await cli("call", tcp.url, "Calculator.nope");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /MethodNotFound \(-32601\)/);
  } finally {
    await server.close();
  }
});

Deno.test("switchboard serve listens on HTTP and TCP and prints both addresses", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let printed = "";
  try {
    const deadline = Date.now() + 30_000;
    while (!/tcp:\/\/\S+/.test(printed) || !/http:\/\/\S+/.test(printed)) {
      if (Date.now() > deadline) throw new Error(`serve printed only: ${printed}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve exited: ${printed}`);
      printed += value;
    }
    const tcpUrl = printed.match(/(tcp:\/\/\S+)/)![1];
    const httpUrl = printed.match(/(http:\/\/\S+)/)![1];
    const overTcp = connect(tcpUrl);
    const overHttp = connect(httpUrl);
    assert.equal(await overTcp.call("Calculator.add", { a: 20, b: 22 }), 42);
    assert.equal(await overHttp.call("Calculator.add", { a: 1, b: 1 }), 2);
    await overTcp.close();
    await overHttp.close();
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
    await child.stderr.cancel();
    await child.status;
  }
  const help = await cli("serve", "--help");
  assert.match(help.stdout, /--tcp HOST:PORT/);
  const off = await cli("serve", "--http", "off", "--tcp", "off");
  assert.equal(off.code, 2);
  assert.match(off.stderr, /every listener is off/);
});
