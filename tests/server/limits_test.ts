// Server-wide limits through real sockets against a real `switchboard serve` process: calls
// in flight across every protocol, connections per listener, HTTP header/idle/body timeouts,
// and notification floods. Each over-limit case gets its protocol's error, never a hang.
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { msgpackSocket } from "../fixtures/msgpack_socket.ts";
import { startServe } from "../fixtures/serve_process.ts";

const utf8 = new TextEncoder();

/** A plain peer's error is Neovim's `[type, "Name: message"]`. */
function plainMessage(error: unknown): string {
  assert.ok(Array.isArray(error), `expected [type, message], got ${JSON.stringify(error)}`);
  return error[1];
}

async function until(what: () => boolean, ms: number, label: string) {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }
  return all;
}

/** One raw HTTP/1.1 exchange on a fresh socket: status, headers and body text. */
async function rawHttp(base: string, request: string) {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(utf8.encode(request));
    return await readResponse(conn);
  } finally {
    conn.close();
  }
}

async function readResponse(conn: Deno.Conn) {
  let text = "";
  const buffer = new Uint8Array(1 << 16);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) continue;
    const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? NaN);
    if (text.length >= end + 4 + length) break;
  }
  const end = text.indexOf("\r\n\r\n");
  return {
    status: Number(text.slice(9, 12)),
    head: text.slice(0, end),
    body: text.slice(end + 4),
  };
}

function post(path: string, type: string, body: string) {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${utf8.encode(body).length}\r\n\r\n${body}`;
}

const ADD = JSON.stringify({ jsonrpc: "2.0", id: 7, method: "Calculator.add", params: [2, 3] });
const XML_ADD = "<?xml version='1.0'?><methodCall><methodName>Calculator.add</methodName>" +
  "<params><param><value><int>2</int></value></param><param><value><int>3</int></value>" +
  "</param></params></methodCall>";

Deno.test("limits: calls in flight are capped across protocols (Overloaded, HTTP 503)", async () => {
  const server = await startServe(["--max-calls", "40"]);
  const a = await msgpackSocket(server.tcp!);
  const b = await msgpackSocket(server.tcp!);
  try {
    // 30 + 30 sleeping calls on two connections: 40 run, 20 are refused.
    const sleeps = (from: number) =>
      concat(Array.from({ length: 30 }, (_, i) => encode([0, from + i, "Echo.sleep", [1500]])));
    await a.write(sleeps(0));
    await b.write(sleeps(100));
    await until(() => a.responses.size + b.responses.size >= 20, 5000, "20 refusals");
    const refused = [...a.responses.values(), ...b.responses.values()];
    assert.equal(refused.length, 20);
    for (const r of refused) {
      assert.match(plainMessage(r.error), /^Overloaded: .*too many calls in flight \(limit 40\)/);
    }
    // Meanwhile HTTP is refused at once with 503 and the protocol's error body.
    const json = await rawHttp(server.http!, post("/rpc", "application/json", ADD));
    assert.equal(json.status, 503);
    assert.equal(JSON.parse(json.body).error.code, -32004);
    const xml = await rawHttp(server.http!, post("/RPC2", "text/xml", XML_ADD));
    assert.equal(xml.status, 503);
    assert.match(xml.body, /<name>faultCode<\/name><value><int>-32004<\/int>/);
    // Once the sleeps end, the 40 that ran answer true and calls are served again.
    await until(() => a.responses.size + b.responses.size === 60, 10_000, "the sleepers");
    const ran = [...a.responses.values(), ...b.responses.values()].filter((r) => r.result);
    assert.equal(ran.length, 40);
    const again = await rawHttp(server.http!, post("/rpc", "application/json", ADD));
    assert.equal(again.status, 200);
    assert.equal(JSON.parse(again.body).result, 5);
  } finally {
    await a.close();
    await b.close();
    await server.stop();
  }
});

Deno.test("limits: 300,000 notifications do not freeze the server; calls are answered meanwhile", async () => {
  const server = await startServe(["--http", "off"]);
  const flood = await msgpackSocket(server.tcp!);
  const other = await msgpackSocket(server.tcp!);
  try {
    const batch = concat(Array.from({ length: 1000 }, () => encode([2, "Echo.sleep", [200]])));
    const writing = (async () => {
      for (let i = 0; i < 300; i++) await flood.write(batch);
    })();
    // While the flood is read (a connection holds at most 1024 of them running, then waits),
    // another connection's calls are answered promptly.
    for (let i = 0; i < 5; i++) {
      const sent = performance.now();
      await other.write(encode([0, i, "Echo.echo", [`call ${i}`]]));
      await until(() => other.responses.has(i), 5000, `call ${i}`);
      assert.equal(other.responses.get(i)!.result, `call ${i}`);
      console.log(`call ${i} answered in ${(performance.now() - sent).toFixed(1)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await writing;
    // The flooding connection's own call comes after its notifications, in order.
    await flood.write(encode([0, 1, "Echo.echo", ["after the flood"]]));
    await until(() => flood.responses.has(1), 120_000, "the call after the flood");
    assert.equal(flood.responses.get(1)!.result, "after the flood");
  } finally {
    await flood.close();
    await other.close();
    await server.stop();
  }
});

Deno.test("limits: connections per TCP listener; the extra one is told Overloaded and closed", async () => {
  const server = await startServe(["--http", "off", "--max-connections", "3"]);
  const held = await Promise.all([0, 1, 2].map(() => msgpackSocket(server.tcp!)));
  try {
    for (const [i, s] of held.entries()) {
      await s.write(encode([0, 1, "Echo.echo", [`held ${i}`]]));
      await until(() => s.responses.has(1), 5000, `held ${i}`);
    }
    const extra = await msgpackSocket(server.tcp!);
    await extra.write(encode([0, 9, "Echo.echo", ["one too many"]]));
    await until(() => extra.closed, 5000, "the extra connection to close");
    const refused = plainMessage(extra.responses.get(9)!.error);
    assert.match(refused, /^Overloaded: .*too many connections \(limit 3\)/);
    // A freed slot is taken again.
    await held.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = await msgpackSocket(server.tcp!);
    await next.write(encode([0, 1, "Echo.echo", ["room again"]]));
    await until(() => next.responses.has(1), 5000, "the next connection");
    assert.equal(next.responses.get(1)!.result, "room again");
    await next.close();
  } finally {
    for (const s of held) await s.close();
    await server.stop();
  }
});

Deno.test("limits: connections per HTTP listener get 503 in their protocol beyond the cap", async () => {
  const server = await startServe(["--tcp", "off", "--max-connections", "2"]);
  const { hostname, port } = new URL(server.http!);
  const held: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const conn = await Deno.connect({ hostname, port: Number(port) });
      await conn.write(utf8.encode(post("/rpc", "application/json", ADD)));
      assert.equal((await readResponse(conn)).status, 200);
      held.push(conn);
    }
    const json = await rawHttp(server.http!, post("/rpc", "application/json", ADD));
    assert.equal(json.status, 503);
    assert.match(json.head, /connection: close/i);
    assert.equal(JSON.parse(json.body).error.code, -32004);
    const xml = await rawHttp(server.http!, post("/RPC2", "text/xml", XML_ADD));
    assert.equal(xml.status, 503);
    assert.match(xml.body, /<fault>.*too many connections \(limit 2\)/s);
  } finally {
    for (const conn of held) conn.close();
    await server.stop();
  }
});

Deno.test("limits: a slowloris connection is closed after the header timeout; others are served", async () => {
  const server = await startServe([
    "--tcp",
    "off",
    "--header-timeout",
    "1000",
    "--idle-timeout",
    "1500",
  ]);
  const { hostname, port } = new URL(server.http!);
  const slow = await Deno.connect({ hostname, port: Number(port) });
  let idle: Deno.Conn | undefined;
  try {
    // Headers byte by byte, 50 ms apart: 4 KiB of them would take minutes.
    const head = utf8.encode(
      "POST /rpc HTTP/1.1\r\nHost: x\r\n" + "X-Padding: slowly\r\n".repeat(200),
    );
    const started = performance.now();
    let closedAfter = -1;
    const watching = (async () => {
      try {
        await slow.read(new Uint8Array(64));
      } catch {
        // reset
      }
      closedAfter = performance.now() - started;
    })();
    for (let i = 0; i < head.length && closedAfter < 0; i++) {
      try {
        await slow.write(head.subarray(i, i + 1));
      } catch {
        break; // closed by the server
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (i === 10) {
        // Others are served meanwhile.
        const ok = await rawHttp(server.http!, post("/rpc", "application/json", ADD));
        assert.equal(JSON.parse(ok.body).result, 5);
      }
      if (performance.now() - started > 10_000) break;
    }
    await watching;
    console.log(`slowloris connection closed after ${closedAfter.toFixed(0)} ms`);
    assert.ok(closedAfter > 0 && closedAfter < 4000, `closed after ${closedAfter} ms`);
    // A kept-alive connection that served a request and then idles is closed too.
    idle = await Deno.connect({ hostname, port: Number(port) });
    await idle.write(utf8.encode(post("/rpc", "application/json", ADD)));
    assert.equal((await readResponse(idle)).status, 200);
    const idleStart = performance.now();
    const n = await idle.read(new Uint8Array(64)).catch(() => null);
    const idleFor = performance.now() - idleStart;
    assert.equal(n, null);
    assert.ok(idleFor >= 1000 && idleFor < 5000, `idle connection closed after ${idleFor} ms`);
  } finally {
    try {
      slow.close();
    } catch {
      // closed
    }
    try {
      idle?.close();
    } catch {
      // closed
    }
    await server.stop();
  }
});

Deno.test("limits: a call longer than the idle timeout keeps its connection; idling after it does not", async () => {
  // The listener counts each connection's requests in progress: JSON-RPC over /rpc reports
  // its answers itself, XML-RPC through the promise it returns. Both must hold the
  // connection open while a call runs past the idle timeout, and free it after the answer.
  const server = await startServe(["--tcp", "off", "--idle-timeout", "800"]);
  const { hostname, port } = new URL(server.http!);
  const sleep = (id: number) =>
    JSON.stringify({ jsonrpc: "2.0", id, method: "Echo.sleep", params: { ms: 2000 } });
  const xmlSleep = "<?xml version='1.0'?><methodCall><methodName>Echo.sleep</methodName>" +
    "<params><param><value><int>2000</int></value></param></params></methodCall>";
  const connections: Deno.Conn[] = [];
  try {
    for (
      const [path, type, body] of [
        ["/rpc", "application/json", sleep(1)],
        ["/RPC2", "text/xml", xmlSleep],
      ]
    ) {
      const conn = await Deno.connect({ hostname, port: Number(port) });
      connections.push(conn);
      await conn.write(utf8.encode(post(path, type, body)));
      const slow = await readResponse(conn);
      assert.equal(slow.status, 200, `${path}: ${slow.body}`);
      assert.match(slow.body, path === "/rpc" ? /"result":true/ : /<boolean>1<\/boolean>/);
      // Still open after the long call: the next request on it is served.
      await conn.write(utf8.encode(post("/rpc", "application/json", ADD)));
      assert.equal(JSON.parse((await readResponse(conn)).body).result, 5);
      // Then it idles, and is closed.
      const idleStart = performance.now();
      let stillOpen = false;
      const giveUp = setTimeout(() => {
        stillOpen = true;
        conn.close();
      }, 5000);
      const n = await conn.read(new Uint8Array(64)).catch(() => null);
      clearTimeout(giveUp);
      const idleFor = performance.now() - idleStart;
      assert.ok(!stillOpen && n === null, `${path}: the idle connection stays open`);
      assert.ok(idleFor >= 600 && idleFor < 5000, `${path}: closed after ${idleFor} ms idle`);
    }
  } finally {
    for (const conn of connections) {
      try {
        conn.close();
      } catch {
        // closed
      }
    }
    await server.stop();
  }
});

Deno.test("limits: a body that does not arrive in time gets 408 in the request's protocol", async () => {
  const server = await startServe(["--tcp", "off", "--body-timeout", "800"]);
  try {
    for (const [path, type] of [["/rpc", "application/json"], ["/RPC2", "text/xml"]]) {
      const started = performance.now();
      // Headers promise 100 bytes; 10 arrive.
      const answer = await rawHttp(
        server.http!,
        `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\nContent-Length: 100\r\n\r\n` +
          "0123456789",
      );
      const took = performance.now() - started;
      assert.equal(answer.status, 408);
      assert.ok(took >= 700 && took < 5000, `answered after ${took} ms`);
      if (path === "/rpc") {
        assert.equal(JSON.parse(answer.body).error.code, -32003 /* Timeout */);
      } else {
        assert.match(answer.body, /<fault>.*did not arrive within 800 ms/s);
      }
    }
  } finally {
    await server.stop();
  }
});

Deno.test("limits: a JSON-RPC batch over the cap is one InvalidRequest error, not 500,000 answers", async () => {
  const server = await startServe(["--tcp", "off"]);
  const small = await startServe(["--tcp", "off", "--max-batch", "10"]);
  try {
    // 1 MiB of `[1,1,…]`: half a million members, each an invalid request.
    const body = `[${Array(524_287).fill("1").join(",")}]`;
    assert.ok(body.length <= 1 << 20);
    const huge = await rawHttp(server.http!, post("/rpc", "application/json", body));
    assert.equal(huge.status, 200);
    const error = JSON.parse(huge.body);
    assert.equal(error.error.code, -32600);
    assert.match(error.error.message, /batch of 524287 members exceeds the limit of 1000/);
    const call = (id: number) => ({
      jsonrpc: "2.0",
      id,
      method: "Calculator.add",
      params: [id, 1],
    });
    const ten = await rawHttp(
      small.http!,
      post(
        "/rpc",
        "application/json",
        JSON.stringify(Array.from({ length: 10 }, (_, i) => call(i))),
      ),
    );
    assert.equal(JSON.parse(ten.body).length, 10);
    const eleven = await rawHttp(
      small.http!,
      post(
        "/rpc",
        "application/json",
        JSON.stringify(Array.from({ length: 11 }, (_, i) => call(i))),
      ),
    );
    assert.match(JSON.parse(eleven.body).error.message, /exceeds the limit of 10$/);
  } finally {
    await server.stop();
    await small.stop();
  }
});
