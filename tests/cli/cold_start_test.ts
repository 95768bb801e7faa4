// What a cold `switchboard call` loads: `deno run` loads the static imports at start, and
// with deno.json's `lazy-dynamic-imports` a literal dynamic import only when it runs, so the
// static graphs must hold neither the server stack nor a transport the URL does not use. And
// the pieces that make it so: per-scheme transport loading and the timer-free time limit
// over HTTP.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadTransport } from "../../src/cli/transports.ts";
import { connect } from "../../src/client/connect.ts";

const ROOT = new URL("../../", import.meta.url);
const MAIN = fileURLToPath(new URL("main.ts", ROOT));

interface InfoModule {
  specifier: string;
  dependencies?: { isDynamic?: boolean; code?: { specifier: string } }[];
}

const relative = (s: string) => s.startsWith(ROOT.href) ? s.slice(ROOT.href.length) : s;

/** The modules `deno run` loads at start from `root`: its static code imports. */
async function startGraph(root: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const { modules } = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: InfoModule[];
  };
  const bySpecifier = new Map(modules.map((m) => [m.specifier, m]));
  const start = modules.find((m) => m.specifier.endsWith(root.replace(/^\.\//, "")))!;
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) visit(dep.code.specifier);
    }
  };
  visit(start.specifier);
  return [...seen].map(relative);
}

/** The modules a real `deno run -A main.ts ARGS` reads, from Deno's debug log. */
async function modulesRead(...args: string[]): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1", DENO_LOG: "debug" },
    signal: AbortSignal.timeout(60_000),
  }).output();
  const log = new TextDecoder().decode(out.stderr);
  const read = [...log.matchAll(/fetch_no_follow - specifier: (\S+)/g)].map((m) => relative(m[1]));
  // The log names the main module too: an empty list would mean the log changed, not a pass.
  assert.ok(read.includes("main.ts"), `no module in Deno's debug log:\n${log.slice(0, 2000)}`);
  return [...new Set(read)];
}

Deno.test("cold start: main.ts loads no command, npm package or Node module at start", async () => {
  const graph = await startGraph("./main.ts");
  const outside = graph.filter((s) =>
    !/^(main\.ts|deno\.json|src\/cli\/(args|flags)\.ts)$/.test(s)
  );
  assert.deepEqual(outside, [], `main.ts loads at start: ${graph.join(", ")}`);
});

Deno.test("cold start: `call` loads no server, host, npm package or Node module", async () => {
  const graph = await startGraph("./src/cli/call.ts");
  const heavy = graph.filter((s) =>
    /^(npm:|node:|src\/(server|host|deploy|observe|wire\/(msgpackrpc|xmlrpc|amqp))\/)/.test(s) ||
    /^src\/client\/(tcp|amqp|http_xmlrpc)\.ts$/.test(s) ||
    /^src\/adapters\/deno\/(tcp_client|all_transports)\.ts$/.test(s)
  );
  assert.deepEqual(heavy, [], `call.ts loads at start: ${graph.join(", ")}`);
  // The client it needs is there.
  assert.ok(graph.includes("src/client/connect.ts"), graph.join(", "));
});

Deno.test("cold start: `deno run` reads only the static graph, not what import() names", async () => {
  // --version: main.ts and its static imports, none of the commands it imports lazily.
  const version = await modulesRead("--version");
  assert.deepEqual(version.sort(), (await startGraph("./main.ts")).sort());
  // A call over HTTP: the call command and the HTTP client, no server, host or other transport.
  const call = await modulesRead("call", "http://127.0.0.1:1", "Nobody.home", "--timeout", "100");
  assert.ok(call.includes("src/cli/call.ts"), call.join(", "));
  const heavy = call.filter((s) =>
    /^(src\/(server|host|deploy)\/|src\/client\/(tcp|amqp|http_xmlrpc)\.ts$|deploy\.ts$)/.test(s)
  );
  assert.deepEqual(heavy, [], `a cold call over HTTP reads: ${call.join(", ")}`);
});

/** The schemes connect() knows, from its error for a scheme nobody serves. */
function knownSchemes(): string[] {
  try {
    connect("ftp://127.0.0.1:1");
  } catch (error) {
    const known = /\(known here: ([^)]*)\)/.exec(String(error))?.[1];
    if (known) return known.split(", ").sort();
  }
  throw new Error("connect() took ftp: or did not list its schemes");
}

Deno.test("cold start: loadTransport plugs in only the URL's transport", async () => {
  // This test module imports no transport: only JSON-RPC over HTTP is built in.
  assert.deepEqual(knownSchemes(), ["http:", "https:"]);
  assert.throws(
    () => connect("http://127.0.0.1:1", { protocol: "xmlrpc" }),
    /add import "@switchboard\/rpc\/xmlrpc"/,
  );

  await loadTransport("http://127.0.0.1:1/rpc");
  assert.deepEqual(knownSchemes(), ["http:", "https:"]);

  await loadTransport("http://127.0.0.1:1", "xmlrpc");
  await connect("http://127.0.0.1:1", { protocol: "xmlrpc" }).close();
  assert.deepEqual(knownSchemes(), ["http:", "https:"]);

  await loadTransport("tls://127.0.0.1:1");
  assert.deepEqual(knownSchemes(), ["http:", "https:", "tcp:", "tls:"]);

  await loadTransport("amqps://127.0.0.1:1");
  assert.deepEqual(knownSchemes(), ["amqp:", "amqps:", "http:", "https:", "tcp:", "tls:"]);

  await loadTransport("wss://127.0.0.1:1");
  const all = ["amqp:", "amqps:", "http:", "https:", "tcp:", "tls:", "ws:", "wss:"];
  assert.deepEqual(knownSchemes(), all);

  // A scheme no transport serves loads them all, so the error can list every scheme.
  await loadTransport("ftp://127.0.0.1:1");
  assert.deepEqual(knownSchemes(), all);
});

Deno.test("cold start: `call --timeout` over HTTP gives up in time and tells the server", async () => {
  const seen: (string | null)[] = [];
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push(req.headers.get("x-rpc-timeout"));
    await release.promise; // never answers before the client gives up
    return new Response("{}");
  });
  try {
    const began = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "call",
        `http://127.0.0.1:${server.addr.port}`,
        "Slow.op",
        "--timeout",
        "300",
      ],
      cwd: ROOT,
      stdin: "null",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(30_000),
    }).output();
    const elapsed = performance.now() - began;
    const stderr = new TextDecoder().decode(out.stderr).trim();
    assert.equal(out.code, 1, stderr);
    assert.equal(stderr, "error: Timeout (-32003): Slow.op timed out after 300 ms");
    assert.ok(elapsed >= 300 && elapsed < 20_000, `took ${elapsed} ms`);
    assert.deepEqual(seen, ["300"]);
  } finally {
    release.resolve();
    await server.shutdown();
  }
});
