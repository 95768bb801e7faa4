// What a real socket can send that a fetch client never would: requests without Host, broken
// chunked framing, documents nested 10^5 deep, numbers beyond a double, 33-bit <i4>s. Each is
// refused in the request's protocol with the status that says why, and the server carries on.
import assert from "node:assert/strict";
import { Server } from "../../server.ts";
import { echo } from "../../src/demo/echo.ts";

const utf8 = new TextEncoder();

/** A server of the demo Echo whose log lines the test reads. */
async function echoServer() {
  const warnings: string[] = [];
  const errors: string[] = [];
  const server = new Server({
    logger: { error: (m) => errors.push(m), warn: (m) => warnings.push(m) },
  }).register(echo);
  const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
  const { port } = new URL(http.url);
  return { server, url: http.url, port: Number(port), warnings, errors };
}

/** Reads everything until the server closes (every request here says `connection: close`). */
async function readAll(conn: Deno.Conn): Promise<string> {
  let text = "";
  const buffer = new Uint8Array(1 << 16);
  const timer = setTimeout(() => conn.close(), 20_000);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch {
    // closed by the timer: the assertions below say what was missing
  } finally {
    clearTimeout(timer);
  }
  try {
    conn.close();
  } catch {
    // closed already
  }
  return text;
}

function parse(text: string) {
  const end = text.indexOf("\r\n\r\n");
  return { status: Number(text.slice(9, 12)), head: text.slice(0, end), body: text.slice(end + 4) };
}

/** Sends `request` whole on a new connection; the response. */
async function raw(port: number, request: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(utf8.encode(request));
  return parse(await readAll(conn));
}

/**
 * Sends `head` (which asks `Expect: 100-continue`), waits for the server's 100 Continue —
 * the handler has started reading the body — then sends `body`; the final response.
 */
async function rawAfterContinue(port: number, head: string, body: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(utf8.encode(head));
  const buffer = new Uint8Array(1024);
  let first = "";
  while (!first.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    first += new TextDecoder().decode(buffer.subarray(0, n));
  }
  assert.match(first, /^HTTP\/1\.1 100 Continue/);
  await conn.write(utf8.encode(body));
  return parse(await readAll(conn));
}

const CALL = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Echo.echo", params: ["hi"] });
const post = (headers: string, body: string) =>
  `POST /rpc HTTP/1.1\r\n${headers}content-type: application/json\r\n` +
  `content-length: ${utf8.encode(body).length}\r\nconnection: close\r\n\r\n${body}`;

Deno.test("http: a request without one Host is 400 in its protocol (RFC 9112 3.2)", async () => {
  const { server, port } = await echoServer();
  try {
    const ok = await raw(port, post("host: x\r\n", CALL));
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { jsonrpc: "2.0", result: "hi", id: 1 });
    for (const headers of ["", "host: \r\n"]) {
      const refused = await raw(port, post(headers, CALL));
      assert.equal(refused.status, 400, JSON.stringify(headers));
      const error = JSON.parse(refused.body).error;
      assert.equal(error.code, -32600);
      assert.match(error.message, /Host header/);
    }
    // Two Host lines: Deno's HTTP engine answers 400 itself.
    assert.equal((await raw(port, post("host: a\r\nhost: b\r\n", CALL))).status, 400);
    // XML-RPC is refused with a fault.
    const xml = await raw(
      port,
      "POST /RPC2 HTTP/1.1\r\ncontent-type: text/xml\r\ncontent-length: 13\r\n" +
        "connection: close\r\n\r\n<methodCall/>",
    );
    assert.equal(xml.status, 400);
    assert.match(xml.body, /<name>faultCode<\/name><value><int>-32600<\/int>/);
    assert.match(xml.body, /no Host header/);
  } finally {
    await server.close();
  }
});

Deno.test("http: a malformed chunk or a short body is 400 with one log line and no stack", async () => {
  const { server, port, warnings, errors } = await echoServer();
  const head = (path: string, type: string) =>
    `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: ${type}\r\n` +
    "transfer-encoding: chunked\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n";
  try {
    // A control character in a chunk extension, then a chunk size that is not hex.
    const json = await rawAfterContinue(
      port,
      head("/rpc", "application/json"),
      "5;\x01bad\r\nhello\r\n0\r\n\r\n",
    );
    assert.equal(json.status, 400);
    const error = JSON.parse(json.body).error;
    assert.equal(error.code, -32600);
    assert.match(error.message, /the request body could not be read/);
    const xml = await rawAfterContinue(port, head("/RPC2", "text/xml"), "zz\r\nhello\r\n0\r\n\r\n");
    assert.equal(xml.status, 400);
    assert.match(xml.body, /<name>faultCode<\/name><value><int>-32600<\/int>/);
    // A declared length the body never reaches (the client stops sending).
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(utf8.encode(
      "POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
        "content-length: 100\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
    ));
    const buffer = new Uint8Array(1024);
    assert.match(new TextDecoder().decode(buffer.subarray(0, (await conn.read(buffer))!)), /100/);
    await conn.write(utf8.encode('{"jsonrpc"'));
    await conn.closeWrite();
    const short = parse(await readAll(conn));
    assert.equal(short.status, 400);
    assert.match(JSON.parse(short.body).error.message, /the request body could not be read/);
    assert.deepEqual(errors, []);
    assert.equal(warnings.length, 3);
    for (const line of warnings) {
      assert.match(line, /^http: the request body could not be read: /);
      assert.ok(!line.includes("\n"), line);
    }
    // The server carries on.
    assert.equal((await raw(port, post("host: x\r\n", CALL))).status, 200);
  } finally {
    await server.close();
  }
});

Deno.test("http: JSON nested 10^5 deep is a parse error before it is parsed, declared or chunked", async () => {
  const { server, url, port } = await echoServer();
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  const body = `{"jsonrpc":"2.0","id":1,"method":"Echo.any","params":[${deep}]}`;
  try {
    const declared = await fetch(`${url}/rpc`, { method: "POST", body });
    assert.deepEqual(await declared.json(), {
      jsonrpc: "2.0",
      error: { code: -32700, message: "Parse error: JSON nests deeper than 128 levels" },
      id: null,
    });
    const chunked = await fetch(`${url}/rpc`, {
      method: "POST",
      body: new Blob([body]).stream(),
    });
    assert.equal((await chunked.json()).error.code, -32700);
    // Nesting within the limits of a value is answered as it was.
    const fine = "[".repeat(60) + "]".repeat(60);
    const ok = await raw(
      port,
      post("host: x\r\n", `{"jsonrpc":"2.0","id":2,"method":"Echo.any","params":[${fine}]}`),
    );
    assert.equal(JSON.stringify(JSON.parse(ok.body).result), fine);
  } finally {
    await server.close();
  }
});

Deno.test("http: a number beyond a double is invalid params naming it, never null", async () => {
  const { server, url } = await echoServer();
  const call = async (params: string) => {
    const response = await fetch(`${url}/rpc`, {
      method: "POST",
      body: `{"jsonrpc":"2.0","id":1,"method":"Echo.any","params":${params}}`,
    });
    return await response.json();
  };
  try {
    for (const params of ["[[1e400]]", "[-1e999]", '[{"a":{"b":[1,2e308]}}]']) {
      const { error, result } = await call(params);
      assert.equal(result, undefined, params);
      assert.equal(error.code, -32602, params);
      assert.match(error.message, /^params\.value: holds -?Infinity, a number beyond the range/);
    }
    assert.deepEqual((await call("[[1.7976931348623157e308]]")).result, [1.7976931348623157e308]);
  } finally {
    await server.close();
  }
});

Deno.test("xml-rpc: an <i4> or <int> beyond 32 bits is a fault; <i8> carries it", async () => {
  const { server, url } = await echoServer();
  const call = async (value: string) => {
    const response = await fetch(`${url}/RPC2`, {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: "<?xml version='1.0'?><methodCall><methodName>Echo.any</methodName><params>" +
        `<param><value>${value}</value></param></params></methodCall>`,
    });
    return await response.text();
  };
  try {
    for (const value of ["<i4>2147483648</i4>", "<int>-2147483649</int>"]) {
      const fault = await call(value);
      assert.match(fault, /<fault>/, value);
      assert.match(fault, /does not fit 32 bits/, value);
    }
    assert.match(await call("<i4>-2147483648</i4>"), /<int>-2147483648<\/int>/);
    assert.doesNotMatch(await call("<i8>2147483648</i8>"), /<fault>/);
  } finally {
    await server.close();
  }
});
