import assert from "node:assert/strict";
import { encodeBase64 } from "../../../src/core/base64.ts";
import { ComponentError, loadComponent, type LoadedComponent } from "../../../deploy.ts";
import { Router } from "../../../src/core/router/router.ts";
import { serveFixtures } from "../fixture_server.ts";

const FIXTURES = new URL("../../fixtures/components/", import.meta.url);
const fixture = (path: string) => new URL(path, FIXTURES).href;

async function call(component: LoadedComponent, method: string, params: unknown = {}) {
  const router = new Router();
  for (const impl of component.implementations) router.register(impl);
  const outcome = await router.dispatch({ method, params });
  if (!outcome.ok) throw new Error(`${method} failed: ${outcome.error.message}`);
  return outcome.value;
}

for (const loader of ["native", "bundled"] as const) {
  Deno.test(`${loader}: a multi-module component from a file path`, async () => {
    const relative = new URL(fixture("search/search.ts")).pathname.replace(
      `${Deno.cwd()}/`,
      "",
    );
    const search = await loadComponent(relative, { loader });
    assert.equal(search.loader, loader);
    assert.equal(search.url, fixture("search/search.ts"));
    assert.deepEqual(search.implementations.map((i) => i.interface.name), ["Search", "Stats"]);
    assert.deepEqual(await call(search, "Search.runQuery", { query: "HA" }), [
      "Hammer",
      "Hand Saw",
    ]);
    assert.equal(await call(search, "Stats.size"), 4);
    // import.meta.url still names the module's own location.
    assert.equal(await call(search, "Search.origin"), "search/search.ts");
  });

  Deno.test(`${loader}: a component that names Switchboard by its JSR name`, async () => {
    const greeter = await loadComponent(fixture("jsr_name.ts"), { loader });
    assert.equal(await call(greeter, "Greeter.greet", { name: "Ada" }), "hello Ada");
    const router = new Router();
    router.register(greeter.implementations[0]);
    const failed = await router.dispatch({ method: "Greeter.greet", params: { name: "" } });
    // The component's RpcError is the library's own class: its name survives.
    assert.deepEqual(failed, {
      ok: false,
      error: { code: -32000, name: "NoName", message: "who?" },
    });
  });

  Deno.test(`${loader}: clear errors naming the URL`, async () => {
    const cases: [string, RegExp][] = [
      [
        "exports_nothing.ts",
        /exports_nothing\.ts exports no implementation \(found only answer, helper\)/,
      ],
      ["throws_on_load.ts", /cannot load component .*throws_on_load\.ts: database not configured/],
      ["twice.ts", /twice\.ts implements interface Clock twice/],
      ["missing.ts", /missing\.ts/],
    ];
    for (const [file, message] of cases) {
      await assert.rejects(loadComponent(fixture(file), { loader }), (error: Error) => {
        assert.ok(error instanceof ComponentError, `${file}: ${error}`);
        assert.match(error.message, message);
        return true;
      });
    }
  });
}

Deno.test("bundled: npm:, jsr: and bare imports are refused with what to do", async () => {
  await assert.rejects(
    loadComponent(fixture("npm_import.ts"), { loader: "bundled" }),
    /npm_import\.ts imports "npm:hono@4\.13\.19": npm: imports cannot be loaded by the compile-safe loader .*bundle the component first/,
  );
  // The native loader resolves npm: itself.
  const web = await loadComponent(fixture("npm_import.ts"), { loader: "native" });
  assert.equal(await call(web, "Web.routes"), 0);
  for (const [specifier, kind] of [["jsr:@std/assert", "jsr:"], ["lodash", "bare"]]) {
    const source = `import x from ${JSON.stringify(specifier)}; export default x;`;
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/c.ts`, source);
      await assert.rejects(
        loadComponent(`${dir}/c.ts`, { loader: "bundled" }),
        new RegExp(`${kind} imports cannot be loaded .*bundle the component first`),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("bundled: circular imports are refused with what to do", async () => {
  await assert.rejects(
    loadComponent(fixture("cycle_a.ts"), { loader: "bundled" }),
    /circular imports \(.*cycle_a\.ts -> .*cycle_b\.ts -> .*cycle_a\.ts\).*bundle the component/,
  );
});

Deno.test("http: a component graph served over http, only when allowed", async () => {
  const server = await serveFixtures();
  try {
    const url = server.url("remote/inventory.ts");
    for (const loader of ["native", "bundled"] as const) {
      await assert.rejects(
        loadComponent(url, { loader }),
        /refusing to load http:\/\/127\.0\.0\.1:\d+\/remote\/inventory\.ts over insecure http: use https:, or pass --allow-insecure-http/,
      );
    }
    assert.deepEqual(server.hits, []); // refused before any request
    const inventory = await loadComponent(url, { loader: "bundled", allowInsecureHttp: true });
    assert.equal(inventory.loader, "bundled");
    assert.equal(await call(inventory, "Inventory.label", { item: "kite" }), ".......KITE!");
    assert.equal(await call(inventory, "Inventory.origin"), new URL(server.origin).host);
    assert.deepEqual(server.hits.sort(), [
      "/remote/inventory.ts",
      "/remote/lib/pad.ts",
      "/remote/lib/shout.ts",
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("http: a missing module names its URL and status", async () => {
  const server = await serveFixtures();
  try {
    await assert.rejects(
      loadComponent(server.url("remote/nope.ts"), { loader: "bundled", allowInsecureHttp: true }),
      /cannot fetch http:\/\/127\.0\.0\.1:\d+\/remote\/nope\.ts: HTTP 404/,
    );
  } finally {
    await server.close();
  }
});

Deno.test("integrity pin: checked before the module runs", async () => {
  const path = fixture("marker.ts");
  const bytes = await Deno.readFile(new URL(path));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const state = globalThis as { markerRan?: boolean };
  delete state.markerRan;

  const wrong = new Uint8Array(digest);
  wrong[0] ^= 1;
  await assert.rejects(
    loadComponent(`${path}#sha256-${encodeBase64(wrong)}`),
    /marker\.ts does not match its integrity pin: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}; refusing to run it/,
  );
  assert.equal(state.markerRan, undefined);

  await assert.rejects(loadComponent(`${path}#sha256-abc`), /pin is 32 bytes/);
  await assert.rejects(
    loadComponent(`${path}#sha256-${encodeBase64(digest)}`, { loader: "native" }),
    /integrity pins are checked by the compile-safe loader/,
  );

  const marker = await loadComponent(`${path}#sha256-${encodeBase64(digest)}`);
  assert.equal(marker.loader, "bundled"); // auto: a pinned module runs the checked bytes
  assert.equal(state.markerRan, true);
  assert.equal(await call(marker, "Marker.ping"), "pong");
  delete state.markerRan;
});

Deno.test("bundled: Switchboard's jsr.io URL resolves to this copy, without a request", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/c.ts`,
      `import { defineInterface, implement, method, t } from "https://jsr.io/@switchboard/rpc/0.1.0/mod.ts";
export default implement(defineInterface("Ping", { ping: method({ result: t.string }) }), {
  ping: () => "pong",
});`,
    );
    const ping = await loadComponent(`${dir}/c.ts`, { loader: "bundled" });
    assert.equal(await call(ping, "Ping.ping"), "pong");
    await Deno.writeTextFile(
      `${dir}/d.ts`,
      `export * from "@switchboard/rpc/src/router/router.ts";`,
    );
    await assert.rejects(
      loadComponent(`${dir}/d.ts`, { loader: "bundled" }),
      /can import Switchboard's entry points \(@switchboard\/rpc, @switchboard\/rpc\/server, …\), not its files/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bundled: this copy's file of any entry point is this copy's library", async () => {
  const dir = await Deno.makeTempDir();
  const root = new URL("../../../", import.meta.url).href;
  const host = globalThis as { hostRouter?: unknown };
  host.hostRouter = Router;
  try {
    await Deno.writeTextFile(
      `${dir}/c.ts`,
      `import { defineInterface, implement, method, t } from "${root}mod.ts";
import { Router } from "${root}server.ts";
export default implement(defineInterface("Same", { router: method({ result: t.bool }) }), {
  router: () => Router === (globalThis as { hostRouter?: unknown }).hostRouter,
});`,
    );
    const same = await loadComponent(`${dir}/c.ts`, { loader: "bundled" });
    assert.equal(await call(same, "Same.router"), true);
    // The CLI is no library entry point.
    await Deno.writeTextFile(`${dir}/d.ts`, `export * from "@switchboard/rpc/cli";`);
    await assert.rejects(
      loadComponent(`${dir}/d.ts`, { loader: "bundled" }),
      /d\.ts imports "@switchboard\/rpc\/cli": a loaded component can import Switchboard's entry points/,
    );
  } finally {
    delete host.hostRouter;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bundled: a program that did not import ./deploy is told to, by the components that need it", async () => {
  const root = new URL("../../../", import.meta.url);
  const dir = await Deno.makeTempDir();
  try {
    // Only the loader, not the ./deploy entry that provides it the library.
    await Deno.writeTextFile(
      `${dir}/program.ts`,
      `import { loadComponent } from "${new URL("src/host/load/loader.ts", root).href}";
for (const name of ["exports_nothing.ts", "marker.ts"]) {
  await loadComponent("${FIXTURES.href}" + name, { loader: "bundled" })
    .catch((error) => console.log(error.message));
}`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", new URL("deno.json", root).pathname, `${dir}/program.ts`],
      stdin: "null",
      env: { NO_COLOR: "1" },
    }).output();
    const [plain, needs] = new TextDecoder().decode(out.stdout).trim().split("\n");
    // A component that does not import Switchboard loads (and is refused for what it exports).
    assert.match(plain, /exports_nothing\.ts exports no implementation/);
    assert.match(
      needs,
      /marker\.ts: this program did not provide Switchboard's library to the components it loads: import "@switchboard\/rpc\/deploy"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
