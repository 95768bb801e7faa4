import assert from "node:assert/strict";
import { connect } from "../../src/client/connect.ts";
import { serveFixtures } from "./fixture_server.ts";

const ROOT = new URL("../../", import.meta.url);
const FIXTURES = new URL("../fixtures/components/", import.meta.url);
const fixture = (path: string) => new URL(path, FIXTURES).pathname;

interface Serving {
  url: string;
  lines: string[];
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Runs `switchboard serve` as a subprocess until it prints its HTTP address. */
async function serve(args: string[]): Promise<Serving> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-lock",
      "main.ts",
      "serve",
      "--http",
      "127.0.0.1:0",
      "--tcp",
      "off",
      ...args,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const lines: string[] = [];
  let buffer = "";
  let url: string | undefined;
  const rest = async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      lines.push(...value.split("\n").filter(Boolean));
    }
  };
  while (!url) {
    const { value, done } = await reader.read();
    if (done) {
      const status = await child.status;
      throw new Error(`serve exited (${status.code}): ${await stderr}`);
    }
    buffer += value;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    lines.push(...parts);
    url = lines.map((l) => /^listening on (http:\/\/\S+)/.exec(l)?.[1]).find(Boolean);
  }
  const draining = rest();
  return {
    url,
    lines,
    async stop() {
      child.kill("SIGTERM");
      const status = await child.status;
      await draining;
      return { code: status.code, stderr: await stderr };
    },
  };
}

/** Runs `switchboard serve` expecting it to fail at start. */
async function serveFails(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-lock",
      "main.ts",
      "serve",
      "--http",
      "127.0.0.1:0",
      "--tcp",
      "off",
      ...args,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("serve: components over http (native) and from a path (forced compile-safe), one in a worker", async () => {
  const fixtures = await serveFixtures();
  const inventory = fixtures.url("remote/inventory.ts");
  const server = await serve([
    "--component",
    inventory,
    "--allow-insecure-http",
    "--component",
    fixture("search/search.ts"),
    "--loader",
    "bundled",
    "--component",
    fixture("sandbox.ts"),
    "--isolate",
    "worker",
  ]);
  const client = connect(server.url);
  try {
    assert.deepEqual(server.lines.filter((l) => l.startsWith("loaded")), [
      `loaded Inventory (2 methods) from ${inventory}`,
      `loaded Search (3 methods) from file://${fixture("search/search.ts")}`,
      `loaded Stats (1 method) from file://${fixture("search/search.ts")}`,
      `loaded Sandbox (8 methods) from file://${fixture("sandbox.ts")} in a worker`,
    ]);
    assert.equal(await client.call("Inventory.label", { item: "yo-yo" }), "......YO-YO!");
    assert.deepEqual(await client.call("Search.runQuery", { query: "kite" }), ["Kite"]);
    assert.equal(await client.call("Sandbox.hello"), "hello from a worker");
    // The caller learns only that access was denied (-32007, not Forbidden's -32002) ...
    await assert.rejects(
      client.call("Sandbox.readText", { path: "deno.json" }),
      { name: "PermissionDenied", code: -32007 },
    );
  } finally {
    await client.close();
    const { code, stderr } = await server.stop();
    await fixtures.close();
    assert.equal(code, 0);
    // ... the server's log says what to grant, and where.
    assert.match(
      stderr,
      /sandbox\.ts was denied: Requires read access to "deno\.json"; to grant it, add --allow-read=deno\.json after --component/,
    );
  }
});

Deno.test("serve: an http component needs --allow-insecure-http", async () => {
  const fixtures = await serveFixtures();
  try {
    for (const loader of ["native", "bundled"]) {
      const url = fixtures.url("remote/inventory.ts");
      const { code, stderr } = await serveFails(["--component", url, "--loader", loader]);
      assert.equal(code, 1);
      assert.match(
        stderr,
        /refusing to load http:\/\/127\.0\.0\.1:\d+\/remote\/inventory\.ts over insecure http: use https:, or pass --allow-insecure-http/,
      );
    }
    assert.deepEqual(fixtures.hits, []);
  } finally {
    await fixtures.close();
  }
});

Deno.test("serve: unusable components and bad options fail at start with one clear line", async () => {
  const nothing = await serveFails(["--component", fixture("exports_nothing.ts")]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /exports_nothing\.ts exports no implementation/);
  const grant = await serveFails(["--component", fixture("search/search.ts"), "--allow-net"]);
  assert.equal(grant.code, 2);
  assert.match(grant.stderr, /--allow-net applies to worker components only; add --isolate worker/);
  const twice = await serveFails([
    "--component",
    fixture("search/search.ts"),
    "--component",
    fixture("search/search.ts"),
    "--loader=bundled",
  ]);
  assert.equal(twice.code, 1);
  assert.match(
    twice.stderr,
    /interface Search is implemented by both .*search\.ts and .*search\.ts/,
  );
});
