// CORS and media types on a real socket: preflights answered for allowed origins only, the
// allow-origin header on actual responses, any media type parsed as JSON (curl's default,
// text/plain), and calls a browser could send cross-site without a preflight refused before
// they run. Browsers themselves are in tests/browser/client_bundle_test.ts.

import assert from "node:assert/strict";
import { defineInterface, implement, method, t } from "../../mod.ts";
import { type CorsOptions, type Logger, Server } from "../../server.ts";
import { startServe } from "../fixtures/serve_process.ts";

const quiet: Logger = { error: () => {}, warn: () => {} };
const Counter = defineInterface("Counter", {
  bump: method({ params: {}, result: t.int }),
});

const APP = "http://app.example:3000";
const EVIL = "http://evil.example";
const bump = '{"jsonrpc":"2.0","id":1,"method":"Counter.bump","params":{}}';

async function withServer(
  cors: CorsOptions | undefined,
  fn: (url: string, count: () => number) => Promise<void>,
  options: { maxBodyBytes?: number } = {},
) {
  let count = 0;
  const server = new Server({ logger: quiet });
  server.register(implement(Counter, { bump: () => ++count }));
  const http = await server.listenHttp({ port: 0 }, { cors, ...options });
  try {
    await fn(http.url, () => count);
  } finally {
    await server.close();
  }
}

const preflight = (url: string, origin: string, headers = "content-type") =>
  fetch(url, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": headers,
    },
  });

const post = (url: string, headers: Record<string, string>, body = bump) =>
  fetch(`${url}/rpc`, { method: "POST", headers, body });

Deno.test("cors: a preflight from an allowed origin is answered for the served paths", async () => {
  await withServer({ origins: [APP] }, async (url) => {
    for (const path of ["/rpc", "/RPC2", "/openrpc.json"]) {
      const res = await preflight(
        `${url}${path}`,
        APP,
        "content-type,authorization,x-rpc-timeout,x-switchboard-params,x-switchboard-extra",
      );
      await res.body?.cancel();
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get("access-control-allow-origin"), APP);
      assert.equal(res.headers.get("access-control-allow-methods"), "POST, GET");
      const allowed = res.headers.get("access-control-allow-headers")!.split(", ");
      for (const h of ["content-type", "authorization", "x-rpc-timeout", "x-switchboard-extra"]) {
        assert.ok(allowed.includes(h), `${h} in ${allowed}`);
      }
      assert.equal(res.headers.get("access-control-max-age"), "600");
      assert.match(res.headers.get("vary") ?? "", /origin/);
      assert.equal(res.headers.get("access-control-allow-credentials"), null, "off by default");
    }
  });
});

Deno.test("cors: a refused origin gets no CORS headers, on preflights and responses", async () => {
  await withServer({ origins: [APP] }, async (url, count) => {
    const pre = await preflight(`${url}/rpc`, EVIL);
    assert.equal(pre.status, 403);
    assert.match(await pre.text(), /origin http:\/\/evil\.example may not call/);
    assert.equal(pre.headers.get("access-control-allow-origin"), null);
    // A JSON call is preflighted by browsers (which now refuse it); other clients are not
    // browsers, so it runs, but nothing lets a page read it.
    const res = await post(url, { origin: EVIL, "content-type": "application/json" });
    assert.equal((await res.json()).result, 1);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    // What a page could send without asking first is refused before it runs.
    const simple = await post(url, { origin: EVIL, "content-type": "text/plain" });
    assert.equal(simple.status, 403);
    const body = await simple.json();
    assert.equal(body.error.name, "Forbidden");
    assert.match(body.error.message, /pages from http:\/\/evil\.example may not call/);
    assert.equal(count(), 1, "the refused call did not run");
  });
});

Deno.test("cors: responses to an allowed origin carry allow-origin, on every route", async () => {
  await withServer({ origins: [APP, "https://other.example/"] }, async (url, count) => {
    for (const type of ["application/json", "text/plain"]) {
      const res = await post(url, { origin: APP, "content-type": type });
      assert.equal((await res.json()).result, count(), type);
      assert.equal(res.headers.get("access-control-allow-origin"), APP);
      assert.match(res.headers.get("vary") ?? "", /origin/);
    }
    for (const path of ["/openrpc.json", "/client.js", "/healthz", "/nowhere"]) {
      const res = await fetch(`${url}${path}`, { headers: { origin: "https://other.example" } });
      await res.body?.cancel();
      assert.equal(res.headers.get("access-control-allow-origin"), "https://other.example", path);
    }
  });
});

Deno.test("cors: * allows any page; credentials only with listed origins", async () => {
  await withServer({ origins: ["*"] }, async (url) => {
    const pre = await preflight(`${url}/rpc`, EVIL);
    await pre.body?.cancel();
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    const res = await post(url, { origin: "null", "content-type": "text/plain" });
    assert.equal((await res.json()).result, 1);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  });
  await withServer({ origins: [APP], credentials: true, maxAge: 5 }, async (url) => {
    const pre = await preflight(`${url}/rpc`, APP);
    await pre.body?.cancel();
    assert.equal(pre.headers.get("access-control-allow-credentials"), "true");
    assert.equal(pre.headers.get("access-control-max-age"), "5");
  });
  const server = new Server({ logger: quiet });
  try {
    await assert.rejects(
      server.listenHttp({ port: 0 }, { cors: { origins: ["*"], credentials: true } }),
      /credentials cannot be allowed for every origin/,
    );
    await assert.rejects(
      server.listenHttp({ port: 0 }, { cors: { origins: ["https://app.example/path"] } }),
      /is not an origin: write only scheme:\/\/host/,
    );
  } finally {
    await server.close();
  }
});

Deno.test("cors: without options, no preflight and no headers; same-host pages still call", async () => {
  await withServer(undefined, async (url, count) => {
    const pre = await preflight(`${url}/rpc`, APP);
    await pre.body?.cancel();
    assert.equal(pre.status, 404);
    assert.equal(pre.headers.get("access-control-allow-origin"), null);
    const same = await post(url, { origin: url, "content-type": "text/plain" });
    assert.equal((await same.json()).result, 1);
    assert.equal(same.headers.get("access-control-allow-origin"), null);
    const cross = await post(url, { origin: APP, "content-type": "text/plain" });
    assert.equal(cross.status, 403);
    assert.match((await cross.json()).error.message, /allows no other origins/);
    const xml = await fetch(`${url}/RPC2`, {
      method: "POST",
      headers: { origin: APP, "content-type": "text/plain" },
      body: "<?xml version='1.0'?><methodCall><methodName>Counter.bump</methodName>" +
        "<params></params></methodCall>",
    });
    await xml.body?.cancel();
    assert.equal(xml.status, 403, "XML-RPC sent as a simple request is refused too");
    assert.equal(count(), 1);
  });
});

Deno.test("http: any media type is parsed as JSON; size limit and parse errors stay", async () => {
  await withServer(undefined, async (url) => {
    for (const type of [undefined, "text/plain", "application/x-www-form-urlencoded"]) {
      const res = await post(url, type ? { "content-type": type } : {});
      assert.equal(res.status, 200, type);
      assert.equal((await res.json()).result !== undefined, true, type);
    }
    const bad = await post(url, { "content-type": "text/plain" }, "a=1&b=2");
    assert.equal(bad.status, 200);
    const error = (await bad.json()).error;
    assert.equal(error.code, -32700);
    assert.match(error.message, /^Parse error: /);
    const big = await post(url, { "content-type": "text/plain" }, `"${"x".repeat(300)}"`);
    assert.equal(big.status, 413);
    assert.match((await big.json()).error.message, /exceeds the limit of 256 bytes/);
    // curl -d sends application/x-www-form-urlencoded.
    const curl = await new Deno.Command("curl", {
      args: ["-sS", "--max-time", "10", "-d", bump, `${url}/rpc`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(curl.success, new TextDecoder().decode(curl.stderr));
    assert.equal(JSON.parse(new TextDecoder().decode(curl.stdout)).result, 4);
  }, { maxBodyBytes: 256 });
});

Deno.test("serve --cors: repeatable and comma-separated; bad origins are usage errors", async () => {
  const served = await startServe([
    "--cors",
    "http://a.example, http://b.example",
    "--cors",
    "http://c.example:8443",
    "--log-level",
    "off",
  ]);
  try {
    for (const origin of ["http://a.example", "http://b.example", "http://c.example:8443"]) {
      const res = await preflight(`${served.url}/rpc`, origin);
      await res.body?.cancel();
      assert.equal(res.headers.get("access-control-allow-origin"), origin);
    }
    const refused = await preflight(`${served.url}/rpc`, "http://d.example");
    await refused.body?.cancel();
    assert.equal(refused.status, 403);
  } finally {
    await served.stop();
  }
  for (
    const [args, message] of [
      [["--cors", "app.example"], /--cors: CORS origin "app\.example" is not a URL/],
      [["--cors", "*", "--cors-credentials"], /--cors: credentials cannot be allowed/],
      [["--cors-credentials"], /--cors-credentials needs --cors ORIGIN/],
    ] as const
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "serve", "--http", "127.0.0.1:0", "--tcp", "off", ...args],
      cwd: new URL("../../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    assert.equal(out.code, 2, args.join(" "));
    assert.match(new TextDecoder().decode(out.stderr), message);
  }
});
