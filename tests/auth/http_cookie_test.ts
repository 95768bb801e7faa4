// Session cookies for browsers (httpAuthenticator({ cookie: true })): a login sets the session
// as an HttpOnly, SameSite=Strict cookie, which is what an EventSource can send; a request
// carrying it is the session's caller on the listener that issued it, and nowhere else.
import assert from "node:assert/strict";
import { AuthGate, httpAuthenticator, passwordBackend, Server } from "../../server.ts";
import { ticksImpl } from "../server/sse_fixture.ts";

async function cookieServer(cookie: boolean) {
  const gate = new AuthGate([
    passwordBackend((user, password) =>
      user === "alice" && password === "pw" ? { id: "alice" } : undefined
    ),
  ]);
  const server = new Server({ logger: { error: () => {}, warn: () => {} } });
  server.register(ticksImpl());
  const options = { authenticate: httpAuthenticator({ gate, cookie }), events: true };
  const http = await server.listenHttp({ port: 0 }, options);
  const other = await server.listenHttp({ port: 0 }, options);
  const rpc = async (method: string, params: unknown) => {
    const response = await fetch(`${http.url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return { response, body: await response.json() };
  };
  const login = async () => {
    const { body: hello } = await rpc("$/auth.hello", []);
    return await rpc("$/auth.login", {
      scheme: "password",
      proof: { user: "alice", password: "pw" },
      nonce: hello.result.nonce,
    });
  };
  return { http, other, login, close: () => server.close() };
}

Deno.test("http auth: a login sets a session cookie that GET streams and /events accept", async () => {
  const { http, other, login, close } = await cookieServer(true);
  try {
    const { response, body } = await login();
    assert.equal(body.result.identity.id, "alice");
    const setCookie = response.headers.get("set-cookie") ?? "";
    assert.match(setCookie, new RegExp(`^switchboard-session=${body.result.session}; `));
    assert.match(setCookie, /; Path=\/; HttpOnly; SameSite=Strict; Max-Age=300$/);
    const cookie = `theme=dark; switchboard-session=${body.result.session}`;

    const stream = await fetch(`${http.url}/rpc/Ticks.count?params=%7B%22n%22%3A2%7D`, {
      headers: { cookie },
    });
    assert.equal(stream.status, 200);
    assert.match(await stream.text(), /event: end\ndata: \{"count":2\}/);
    const events = await fetch(`${http.url}/events?topic=a`, { headers: { cookie } });
    assert.equal(events.status, 200);
    await events.body?.cancel();

    for (
      const [url, headers, why] of [
        [http.url, {}, "no cookie"],
        [http.url, { cookie: "switchboard-session=forged" }, "an unknown session"],
        [other.url, { cookie }, "another listener's session"],
      ] as const
    ) {
      const refused = await fetch(`${url}/rpc/Ticks.count?params=%7B%22n%22%3A1%7D`, { headers });
      assert.equal(refused.status, 401, why);
      assert.equal((await refused.json()).error.name, "Unauthorized");
    }
  } finally {
    await close();
  }
});

Deno.test("http auth: without cookie: true no cookie is set, and none is accepted", async () => {
  const { http, login, close } = await cookieServer(false);
  try {
    const { response, body } = await login();
    assert.equal(response.headers.get("set-cookie"), null);
    const refused = await fetch(`${http.url}/rpc/Ticks.count?params=%7B%22n%22%3A1%7D`, {
      headers: { cookie: `switchboard-session=${body.result.session}` },
    });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
  } finally {
    await close();
  }
});
