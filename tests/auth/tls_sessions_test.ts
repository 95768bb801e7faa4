// HTTPS listeners (in code and from `serve --tls-cert/--tls-key`), `https://` in the
// client with a custom CA, and sessions bound to the listener that issued them, short-
// lived and renewed by the client before they end.
import assert from "node:assert/strict";
import { AuthGate } from "../../src/auth/gate.ts";
import { httpAuthenticator, SESSION_SCHEME } from "../../src/auth/http.ts";
import { sharedSecretBackend, sharedSecretCredentials } from "../../src/auth/shared_secret.ts";
import { AUTH_HELLO, AUTH_LOGIN } from "../../src/auth/types.ts";
import { connect } from "../../src/client/connect.ts";
import { Server } from "../../src/adapters/deno/server.ts";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { makeCerts, SKIP_TLS } from "../fixtures/tls_certs.ts";
import "../../xmlrpc.ts"; // connect() speaks xmlrpc

const SECRET = "correct horse battery staple";
const Cart = defineInterface("Cart", { clear: method({ result: t.string }) });
const ROOT = new URL("../../", import.meta.url);

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  client?: Deno.HttpClient,
) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    ...(client ? { client } : {}),
  } as RequestInit);
  return { status: response.status, body: await response.json() };
}

Deno.test({
  name: "tls: an HTTPS listener in code; the client trusts it through caCerts only",
  ignore: SKIP_TLS,
  fn: async () => {
    const certs = await makeCerts();
    const server = new Server();
    server.register(implement(Cart, { clear: () => "cleared" }));
    try {
      const https = await server.listenHttp({ port: 0, tls: { cert: certs.cert, key: certs.key } });
      assert.match(https.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const trusting = connect(https.url, { caCerts: [certs.ca] });
      assert.equal(await trusting.call("Cart.clear"), "cleared");
      await trusting.close();
      const xml = connect(https.url, { caCerts: [certs.ca], protocol: "xmlrpc" });
      assert.equal(await xml.call("Cart.clear"), "cleared");
      await xml.close();
      const untrusting = connect(https.url);
      await assert.rejects(untrusting.call("Cart.clear"), { name: "Unavailable" });
      await untrusting.close();
      // Plain HTTP to the HTTPS port gets nothing.
      const plain = connect(https.url.replace("https:", "http:"));
      await assert.rejects(plain.call("Cart.clear"), { name: "Unavailable" });
      await plain.close();
    } finally {
      await server.close();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "tls: switchboard serve --tls-cert/--tls-key serves HTTPS",
  ignore: SKIP_TLS,
  fn: async () => {
    const certs = await makeCerts();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", "main.ts", "serve", "--http", "127.0.0.1:0", "--tcp", "off"]
        .concat(["--tls-cert", certs.files.cert, "--tls-key", certs.files.key]),
      cwd: ROOT,
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      let text = "";
      let url: string | undefined;
      const end = Date.now() + 30_000;
      while (!url && Date.now() < end) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        url = /listening on (https:\/\/\S+)/.exec(text)?.[1];
      }
      assert.ok(url, text);
      const client = connect(url, { caCerts: [certs.ca] });
      assert.equal(await client.call("Calculator.add", { a: 2, b: 3 }), 5);
      await client.close();
    } finally {
      child.kill("SIGTERM");
      await reader.cancel();
      await child.status;
      await certs.remove();
    }
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-lock", "main.ts", "serve", "--tls-cert", "x.pem"],
      cwd: ROOT,
      stdin: "null",
    }).output();
    assert.notEqual(bad.code, 0);
    assert.match(new TextDecoder().decode(bad.stderr), /--tls-cert and --tls-key go together/);
  },
});

Deno.test("sessions: a token from one listener is refused by another; 5 minutes by default", async () => {
  const server = new Server();
  server.register(implement(Cart, { clear: () => "cleared" }));
  // One authenticator on two listeners: the sessions table is shared, the binding is not.
  const authenticate = httpAuthenticator({ gate: new AuthGate([sharedSecretBackend(SECRET)]) });
  const a = await server.listenHttp({ port: 0 }, { authenticate });
  const b = await server.listenHttp({ port: 0 }, { authenticate });
  try {
    const hello = await post(`${a.url}/rpc`, { jsonrpc: "2.0", id: 1, method: AUTH_HELLO });
    const nonce = hello.body.result.nonce;
    const proof = await sharedSecretCredentials(SECRET, "front").prove(nonce);
    const login = await post(`${a.url}/rpc`, {
      jsonrpc: "2.0",
      id: 2,
      method: AUTH_LOGIN,
      params: { scheme: "secret", proof, nonce },
    });
    assert.equal(login.body.result.expiresIn, 300_000);
    const token = { authorization: `${SESSION_SCHEME} ${login.body.result.session}` };
    const call = { jsonrpc: "2.0", id: 3, method: "Cart.clear" };
    assert.equal((await post(`${a.url}/rpc`, call, token)).body.result, "cleared");
    // The relay's trick: the same token, replayed to another listener.
    const replayed = await post(`${b.url}/rpc`, call, token);
    assert.equal(replayed.status, 401);
    assert.match(replayed.body.error.message, /session unknown or expired here/);
  } finally {
    await server.close();
  }
});

Deno.test("sessions: the client renews a short session before it ends; no call meets a 401", async () => {
  const server = new Server();
  server.register(implement(Cart, { clear: () => "cleared" }));
  const http = await server.listenHttp({ port: 0 }, {
    authenticate: httpAuthenticator({
      gate: new AuthGate([sharedSecretBackend(SECRET)]),
      sessionTtl: 500,
    }),
  });
  const seen: { login: boolean; status: number }[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    seen.push({ login: String(init?.body ?? "").includes(AUTH_LOGIN), status: response.status });
    return response;
  };
  const client = connect(http.url, {
    auth: sharedSecretCredentials(SECRET, "w"),
    fetch: recording,
  });
  try {
    const end = Date.now() + 2000;
    while (Date.now() < end) {
      assert.equal(await client.call("Cart.clear"), "cleared");
      await new Promise((r) => setTimeout(r, 100));
    }
    const logins = seen.filter((s) => s.login).length;
    assert.ok(logins >= 4, `${logins} logins in 2 s with 500 ms sessions`);
    assert.deepEqual(seen.filter((s) => s.status === 401), []);
  } finally {
    await client.close();
    await server.close();
  }
});
