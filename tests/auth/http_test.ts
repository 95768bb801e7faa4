import assert from "node:assert/strict";
import {
  AUTH_HELLO,
  AUTH_LOGIN,
  AuthGate,
  createHttpApp,
  httpAuthenticator,
  type HttpAuthOptions,
  passwordBackend,
  Server,
  sharedSecretBackend,
} from "../../server.ts";
import {
  bearerCredentials,
  connect,
  defineInterface,
  type Identity,
  implement,
  method,
  passwordCredentials,
  sharedSecretCredentials,
  t,
} from "../../mod.ts";
import "../../xmlrpc.ts"; // connect() speaks xmlrpc

const SECRET = "correct horse battery staple";

const Whoami = defineInterface("Whoami", {
  whoami: method({ result: t.string }),
  secret: method({ result: t.string }),
});

const whoami = implement(Whoami, {
  whoami: (_, ctx) => ctx.caller ? `${ctx.caller.id} [${ctx.caller.roles ?? []}]` : "anonymous",
  secret: () => "42",
}, { deny: ["secret"] });

/** A server with `auth` on its HTTP listener; `fn` gets its URL. */
async function withServer(
  auth: HttpAuthOptions,
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const server = new Server();
  server.register(whoami);
  const http = await server.listenHttp({ port: 0 }, { authenticate: httpAuthenticator(auth) });
  try {
    await fn(http.url);
  } finally {
    await server.close();
  }
}

/** A fetch that records what went over the wire. */
function recordingFetch(log: string[]): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    log.push(`${[...headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${init?.body ?? ""}`);
    return await fetch(input, init);
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

Deno.test("a protected server refuses callers without credentials: HTTP 401, code -32001", async () => {
  await withServer({ gate: new AuthGate([sharedSecretBackend(SECRET)]) }, async (url) => {
    const reply = await post(`${url}/rpc`, { jsonrpc: "2.0", id: 7, method: "Whoami.whoami" });
    assert.equal(reply.status, 401);
    assert.equal(reply.headers.get("www-authenticate"), "Switchboard-Session");
    assert.equal(reply.body.id, 7);
    assert.equal(reply.body.error.code, -32001);
    assert.match(reply.body.error.message, /^Unauthorized: this server needs authentication/);
    assert.match(reply.body.error.message, /\$\/auth\.hello/);

    const client = connect(url);
    await assert.rejects(client.call("Whoami.whoami"), { name: "Unauthorized", code: -32001 });
    await client.close();
  });
});

Deno.test("XML-RPC requests are refused with an XML-RPC fault", async () => {
  await withServer({ gate: new AuthGate([sharedSecretBackend(SECRET)]) }, async (url) => {
    const response = await fetch(`${url}/RPC2`, {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: `<?xml version="1.0"?><methodCall><methodName>Whoami.whoami</methodName></methodCall>`,
    });
    assert.equal(response.status, 401);
    const text = await response.text();
    assert.match(text, /<fault>/);
    assert.match(text, /<name>faultCode<\/name><value><int>-32001<\/int>/);
    assert.match(text, /Unauthorized: this server needs authentication/);

    const client = connect(url, { protocol: "xmlrpc" });
    await assert.rejects(client.call("Whoami.whoami"), { code: -32001 });
    await client.close();
  });
});

Deno.test("the shared secret opens a session over JSON-RPC and XML-RPC; the secret never travels", async () => {
  await withServer(
    { gate: new AuthGate([sharedSecretBackend(SECRET, { roles: ["peer"] })]) },
    async (url) => {
      for (const protocol of ["jsonrpc", "xmlrpc"] as const) {
        const wire: string[] = [];
        const client = connect(url, {
          protocol,
          fetch: recordingFetch(wire),
          auth: sharedSecretCredentials(SECRET, "worker-1"),
        });
        try {
          assert.equal(await client.call("Whoami.whoami"), "worker-1 [peer]");
          assert.equal(await client.call("Whoami.whoami"), "worker-1 [peer]");
          // Authorization still applies to authenticated callers.
          await assert.rejects(client.call("Whoami.secret"), { name: "Forbidden", code: -32002 });
        } finally {
          await client.close();
        }
        // hello, login, then three calls with the session header.
        assert.equal(wire.length, 5, protocol);
        assert.match(wire[0], /\$\/auth\.hello/);
        assert.match(wire[1], /\$\/auth\.login/);
        assert.ok(wire.slice(2).every((w) => /authorization: Switchboard-Session \S+/.test(w)));
        assert.ok(wire.every((w) => !w.includes(SECRET)), "the secret went over the wire");
      }
    },
  );
});

Deno.test("a wrong secret is refused, and repeated failures are throttled per peer and identity", async () => {
  const gate = new AuthGate([sharedSecretBackend(SECRET)], { maxFailures: 2, window: 60_000 });
  await withServer({ gate }, async (url) => {
    const intruder = connect(url, { auth: sharedSecretCredentials("guess", "mallory") });
    await assert.rejects(intruder.call("Whoami.whoami"), {
      name: "Unauthorized",
      message: "Unauthorized: login refused (secret)",
    });
    await assert.rejects(intruder.call("Whoami.whoami"), { message: /login refused/ });
    await assert.rejects(intruder.call("Whoami.whoami"), {
      name: "Unauthorized",
      message: /too many failed logins as mallory from 127\.0\.0\.1; retry in \d+ s/,
    });
    await intruder.close();
    // Another identity behind the same address is not held up by mallory's failures.
    const friend = connect(url, { auth: sharedSecretCredentials(SECRET, "worker") });
    assert.match(String(await friend.call("Whoami.whoami")), /^worker/);
    await friend.close();
  });
});

Deno.test("a nonce serves one login: a recorded login cannot be replayed", async () => {
  await withServer({ gate: new AuthGate([sharedSecretBackend(SECRET)]) }, async (url) => {
    const hello = await post(`${url}/rpc`, { jsonrpc: "2.0", id: 1, method: AUTH_HELLO });
    assert.equal(hello.status, 200);
    assert.deepEqual(hello.body.result.schemes, ["secret"]);
    const nonce = hello.body.result.nonce;
    const proof = await sharedSecretCredentials(SECRET, "worker").prove(nonce);
    const login = {
      jsonrpc: "2.0",
      id: 2,
      method: AUTH_LOGIN,
      params: { scheme: "secret", proof, nonce },
    };
    const first = await post(`${url}/rpc`, login);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.result.identity, { id: "worker", roles: [] });
    assert.equal(typeof first.body.result.session, "string");
    assert.equal(first.body.result.expiresIn, 300_000);

    const replay = await post(`${url}/rpc`, login);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.id, 2);
    assert.match(replay.body.error.message, /unknown or expired nonce/);

    const call = { jsonrpc: "2.0", id: 3, method: "Whoami.whoami" };
    const good = await post(`${url}/rpc`, call, {
      authorization: `Switchboard-Session ${first.body.result.session}`,
    });
    assert.deepEqual(good.body, { jsonrpc: "2.0", result: "worker []", id: 3 });
    const forged = await post(`${url}/rpc`, call, { authorization: "Switchboard-Session forged" });
    assert.equal(forged.status, 401);
    assert.match(forged.body.error.message, /session unknown or expired/);
    const other = await post(`${url}/rpc`, call, { authorization: "Basic YTpi" });
    assert.equal(other.status, 401);
    assert.match(other.body.error.message, /scheme "basic" not accepted/);
  });
});

Deno.test("a nonce that waited too long is refused", async () => {
  await withServer(
    { gate: new AuthGate([sharedSecretBackend(SECRET)]), nonceTtl: 1 },
    async (url) => {
      const hello = await post(`${url}/rpc`, { jsonrpc: "2.0", id: 1, method: AUTH_HELLO });
      const nonce = hello.body.result.nonce;
      await new Promise((resolve) => setTimeout(resolve, 10));
      const proof = await sharedSecretCredentials(SECRET).prove(nonce);
      const login = await post(`${url}/rpc`, {
        jsonrpc: "2.0",
        id: 2,
        method: AUTH_LOGIN,
        params: { scheme: "secret", proof, nonce },
      });
      assert.equal(login.status, 401);
      assert.match(login.body.error.message, /unknown or expired nonce/);
    },
  );
});

Deno.test("the client logs in again when its session is gone (server restarted)", async () => {
  const server = new Server();
  server.register(whoami);
  const gate = new AuthGate([sharedSecretBackend(SECRET)]);
  let app = createHttpApp(server.router, { authenticate: httpAuthenticator({ gate }) });
  const wire: string[] = [];
  const viaApp: typeof fetch = (input, init) => {
    wire.push(String(init?.body));
    return Promise.resolve(
      app.fetch(new Request(input, init), { remoteAddr: { hostname: "10.0.0.1" } }),
    );
  };
  const client = connect("http://switchboard.test", {
    fetch: viaApp,
    auth: sharedSecretCredentials(SECRET, "w"),
  });
  assert.equal(await client.call("Whoami.whoami"), "w []");
  // A fresh app has a fresh session store: the old session is unknown there.
  app = createHttpApp(server.router, { authenticate: httpAuthenticator({ gate }) });
  assert.equal(await client.call("Whoami.whoami"), "w []");
  const hellos = wire.filter((w) => w.includes(AUTH_HELLO)).length;
  assert.equal(hellos, 2);
  assert.equal(wire.length, 7); // hello, login, call, call (401), hello, login, call
  await client.close();
  await server.close();
});

Deno.test("concurrent first calls share one login", async () => {
  await withServer({ gate: new AuthGate([sharedSecretBackend(SECRET)]) }, async (url) => {
    const wire: string[] = [];
    const client = connect(url, {
      fetch: recordingFetch(wire),
      auth: sharedSecretCredentials(SECRET, "w"),
    });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => client.call("Whoami.whoami")),
    );
    assert.deepEqual(results, Array(8).fill("w []"));
    assert.equal(wire.filter((w) => w.includes(AUTH_HELLO)).length, 1);
    // Batches carry the session too.
    const batch = await client.batch([{ method: "Whoami.whoami" }, { method: "Whoami.secret" }]);
    assert.equal(batch[0].ok && batch[0].value, "w []");
    assert.equal(!batch[1].ok && batch[1].error.name, "Forbidden");
    await client.close();
  });
});

Deno.test("bearer tokens authenticate each request; bad tokens are refused and rate-limited", async () => {
  const tokens: Record<string, Identity> = { "t-admin": { id: "root", roles: ["admin"] } };
  await withServer(
    { bearer: (token) => tokens[token], bearerRateLimit: { maxFailures: 1 } },
    async (url) => {
      const admin = connect(url, { headers: { authorization: "Bearer t-admin" } });
      assert.equal(await admin.call("Whoami.whoami"), "root [admin]");
      await admin.close();
      // The same through `auth`, on both HTTP protocols.
      for (const protocol of ["jsonrpc", "xmlrpc"] as const) {
        const viaAuth = connect(url, { protocol, auth: bearerCredentials("t-admin") });
        assert.equal(await viaAuth.call("Whoami.whoami"), "root [admin]");
        await viaAuth.close();
      }

      const call = { jsonrpc: "2.0", id: 1, method: "Whoami.whoami" };
      const bad = await post(`${url}/rpc`, call, { authorization: "Bearer nope" });
      assert.equal(bad.status, 401);
      assert.equal(bad.headers.get("www-authenticate"), "Bearer");
      assert.match(bad.body.error.message, /^Unauthorized: login refused \(bearer\)/);
      const limited = await post(`${url}/rpc`, call, { authorization: "Bearer t-admin" });
      assert.equal(limited.status, 401);
      assert.match(limited.body.error.message, /too many failed logins/);
      // Without a gate there is no handshake to answer: it is refused like any call.
      const hello = await post(`${url}/rpc`, { jsonrpc: "2.0", id: 2, method: AUTH_HELLO });
      assert.equal(hello.status, 401);
    },
  );
});

Deno.test("passwords are checked by the user's function, and roles come from it", async () => {
  const check = (user: string, password: string): Identity | undefined =>
    user === "alice" && password === "wonderland"
      ? { id: "alice", roles: ["admin"] }
      : user === "bob" && password === "builder"
      ? { id: "bob" }
      : undefined;
  const gate = new AuthGate([passwordBackend(check), sharedSecretBackend(SECRET)]);
  await withServer({ gate }, async (url) => {
    const alice = connect(url, { auth: passwordCredentials("alice", "wonderland") });
    const bob = connect(url, { auth: passwordCredentials("bob", "builder") });
    const eve = connect(url, { auth: passwordCredentials("bob", "wonderland") });
    try {
      assert.equal(await alice.call("Whoami.whoami"), "alice [admin]");
      assert.equal(await bob.call("Whoami.whoami"), "bob []");
      await assert.rejects(eve.call("Whoami.whoami"), {
        message: "Unauthorized: login refused (password)",
      });
    } finally {
      await alice.close();
      await bob.close();
      await eve.close();
    }
  });
});

Deno.test("optional authentication lets anonymous callers in and still reads credentials", async () => {
  await withServer(
    { gate: new AuthGate([sharedSecretBackend(SECRET)]), required: false },
    async (url) => {
      const anonymous = connect(url);
      const known = connect(url, { auth: sharedSecretCredentials(SECRET, "w") });
      try {
        assert.equal(await anonymous.call("Whoami.whoami"), "anonymous");
        // The router refuses denied methods to anonymous callers as Unauthorized.
        await assert.rejects(anonymous.call("Whoami.secret"), {
          name: "Unauthorized",
          code: -32001,
        });
        assert.equal(await known.call("Whoami.whoami"), "w []");
      } finally {
        await anonymous.close();
        await known.close();
      }
    },
  );
});

Deno.test("client credentials against servers that cannot take them", async () => {
  // No authentication at all: calls go through without a session.
  const open = new Server();
  open.register(whoami);
  const http = await open.listenHttp({ port: 0 });
  const client = connect(http.url, { auth: sharedSecretCredentials(SECRET) });
  assert.equal(await client.call("Whoami.whoami"), "anonymous");
  await client.close();
  await open.close();
  // A scheme the server does not offer: refused before anything is sent.
  await withServer({ gate: new AuthGate([sharedSecretBackend(SECRET)]) }, async (url) => {
    const wrong = connect(url, { auth: passwordCredentials("alice", "pw") });
    await assert.rejects(wrong.call("Whoami.whoami"), {
      name: "Unauthorized",
      message: /does not accept the password scheme \(it accepts secret\)/,
    });
    await wrong.close();
  });
});

Deno.test("httpAuthenticator needs something to check", () => {
  assert.throws(() => httpAuthenticator({}), /needs a gate, a bearer check, or both/);
});
