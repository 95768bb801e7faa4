// POST /, /rpc and /RPC2 are answered without hono's routing (the hot path); these tests
// pin that the shortcut behaves exactly as the routed paths do at its edges.
import assert from "node:assert/strict";
import { createHttpApp, Router } from "../../server.ts";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { xmlRpcHandler } from "../../xmlrpc.ts";
import type { ListenerEnv } from "../../src/server/_http_env.ts";

const Calc = defineInterface("Calc", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
});

function setup(options: Parameters<typeof createHttpApp>[1] = {}) {
  const errors: string[] = [];
  const router = new Router({
    logger: { error: (m) => errors.push(m), warn: () => {} },
  });
  router.register(implement(Calc, { add: ({ a, b }) => a + b }));
  return { app: createHttpApp(router, options), errors, router };
}

const json = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
const call = { jsonrpc: "2.0", id: 1, method: "Calc.add", params: { a: 2, b: 3 } };

Deno.test("POST /rpc with a query string is still JSON-RPC; other paths are not", async () => {
  const { app } = setup();
  const ok = await app.fetch(new Request("http://x/rpc?trace=1", json(call)));
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { jsonrpc: "2.0", result: 5, id: 1 });
  for (const path of ["/rpc/", "/rpcx", "/RPC"]) {
    const res = await app.fetch(new Request(`http://x${path}`, json(call)));
    assert.equal(res.status, 404, path);
    await res.body?.cancel();
  }
  const get = await app.fetch(new Request("http://x/rpc"));
  assert.equal(get.status, 405);
  await get.body?.cancel();
});

Deno.test("a failure on the hot paths is a logged 500, as on the routed ones", async () => {
  const { app, errors } = setup({
    authenticate: () => {
      throw new Error("authenticator broke");
    },
    xmlrpc: () => Promise.resolve(""),
  });
  for (const path of ["/rpc", "/RPC2", "/"]) {
    const res = await app.fetch(new Request(`http://x${path}`, json(call)));
    assert.equal(res.status, 500, path);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=UTF-8");
    assert.equal(await res.text(), "internal error\n");
  }
  assert.equal(errors.length, 3);
  assert.match(errors[0], /authenticator broke/);
});

Deno.test("POST /RPC2 is XML-RPC where installed, and 404 where not", async () => {
  const bare = setup();
  const missing = await bare.app.fetch(
    new Request("http://x/RPC2", { method: "POST", body: "<methodCall/>" }),
  );
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), "XML-RPC is not served here\n");

  const router = new Router();
  router.register(implement(Calc, { add: ({ a, b }) => a + b }));
  const app = createHttpApp(router, { xmlrpc: xmlRpcHandler(router) });
  const res = await app.fetch(
    new Request("http://x/RPC2", {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: "<?xml version='1.0'?><methodCall><methodName>Calc.add</methodName><params>" +
        "<param><value><int>2</int></value></param><param><value><int>3</int></value></param>" +
        "</params></methodCall>",
    }),
  );
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<(int|i4)>5<\/(int|i4)>/);
});

Deno.test("POST / is the hot path too: JSON-RPC, or XML-RPC by its media type", async () => {
  const router = new Router();
  router.register(implement(Calc, { add: ({ a, b }) => a + b }));
  const app = createHttpApp(router, { xmlrpc: xmlRpcHandler(router) });
  // The listener's env learns each answer once, when the response is made.
  let answered = 0;
  const env: ListenerEnv = { answered: () => answered++ };
  const body = JSON.stringify(call);
  const pending = app.fetch(
    new Request("http://x/", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(body.length) },
      body,
    }),
    env,
  );
  const res = await pending;
  assert.deepEqual(await res.json(), { jsonrpc: "2.0", result: 5, id: 1 });
  assert.equal(answered, 1);
  const xml = await app.fetch(
    new Request("http://x/", {
      method: "POST",
      headers: { "content-type": "text/xml; charset=utf-8" },
      body: "<?xml version='1.0'?><methodCall><methodName>Calc.add</methodName><params>" +
        "<param><value><int>2</int></value></param><param><value><int>3</int></value></param>" +
        "</params></methodCall>",
    }),
  );
  assert.match(await xml.text(), /<(int|i4)>5<\/(int|i4)>/);
  const plain = await setup().app.fetch(
    new Request("http://x/", { method: "POST", headers: { "content-type": "text/xml" } }),
  );
  assert.equal(plain.status, 404);
  assert.equal(await plain.text(), "XML-RPC is not served here\n");
});

Deno.test("a listener's env learns every answer exactly once, on every path", async () => {
  const router = new Router({ logger: { error: () => {}, warn: () => {} }, maxInFlight: 1 });
  let release!: () => void;
  const Slow = defineInterface("Slow", { wait: method({ result: t.int }) });
  router.register(implement(Calc, { add: ({ a, b }) => a + b }));
  router.register(
    implement(Slow, { wait: () => new Promise<number>((r) => release = () => r(1)) }),
  );
  const json = (body: string, headers: Record<string, string> = {}) => ({
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const requests: [string, RequestInit?][] = [
    ["http://x/rpc", json(JSON.stringify(call), { "content-length": "999" })],
    ["http://x/rpc", json("{not json", { "content-length": "9" })],
    ["http://x/rpc", json(JSON.stringify(call))], // no length: read as a stream
    ["http://x/rpc", json("x".repeat(10), { "content-length": String(2 ** 30) })], // 413
    ["http://x/rpc", {
      ...json(JSON.stringify(call)),
      headers: { origin: "https://evil.example" },
    }],
    ["http://x/RPC2", { method: "POST", headers: { "content-type": "text/xml" }, body: "<x/>" }],
    ["http://x/healthz"],
    ["http://x/nowhere"],
    ["http://x/%72pc", json(JSON.stringify(call))], // through hono's routes
  ];
  for (
    const middleware of [[], [
      (_r: Request, _e: unknown, next: () => Response | Promise<Response>) => next(),
    ]]
  ) {
    const app = createHttpApp(router, { xmlrpc: xmlRpcHandler(router), middleware });
    for (const [url, init] of requests) {
      let answered = 0;
      const env: ListenerEnv = { answered: () => answered++ };
      const response = await app.fetch(new Request(url, init), env);
      await response.body?.cancel();
      assert.equal(answered, 1, `${url} ${init?.body ?? ""} with ${middleware.length} middleware`);
    }
    // Overloaded (the router's one slot is taken): refused at once, still reported once.
    const slow = app.fetch(
      new Request("http://x/rpc", json('{"jsonrpc":"2.0","id":1,"method":"Slow.wait"}')),
    );
    await new Promise((r) => setTimeout(r, 10));
    let answered = 0;
    const refused = await app.fetch(
      new Request("http://x/rpc", json(JSON.stringify(call), { "content-length": "40" })),
      { answered: () => answered++ } as ListenerEnv,
    );
    assert.equal(refused.status, 503);
    await refused.body?.cancel();
    assert.equal(answered, 1);
    release();
    await (await slow).body?.cancel();
  }
});

Deno.test("HTTP middleware wraps the calls (hot paths included) and the routes, in order", async () => {
  const seen: string[] = [];
  const { app } = setup({
    middleware: [
      async (request, _env, next) => {
        seen.push(`outer ${new URL(request.url).pathname}`);
        const response = await next();
        response.headers.set("x-outer", "1");
        return response;
      },
      (request, _env, next) => {
        seen.push("inner");
        if (request.headers.get("authorization") === "no") {
          return new Response("refused\n", { status: 403 });
        }
        return next();
      },
    ],
  });
  const body = JSON.stringify(call);
  const post = (headers: Record<string, string> = {}) =>
    app.fetch(
      new Request("http://x/rpc", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": String(body.length),
          ...headers,
        },
        body,
      }),
    );
  const ok = await post();
  assert.deepEqual(await ok.json(), { jsonrpc: "2.0", result: 5, id: 1 });
  assert.equal(ok.headers.get("x-outer"), "1");
  const refused = await post({ authorization: "no" });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get("x-outer"), "1");
  await refused.body?.cancel();
  const health = await app.fetch(new Request("http://x/healthz"));
  assert.equal(health.headers.get("x-outer"), "1");
  await health.body?.cancel();
  assert.deepEqual(seen, ["outer /rpc", "inner", "outer /rpc", "inner", "outer /healthz", "inner"]);
});

Deno.test("HTTP middleware that throws is answered 500, and logged", async () => {
  const { app, errors } = setup({
    middleware: [() => {
      throw new Error("boom");
    }],
  });
  const response = await app.fetch(new Request("http://x/healthz"));
  assert.equal(response.status, 500);
  await response.body?.cancel();
  assert.equal(errors.length, 1);
  assert.match(errors[0], /boom/);
});
