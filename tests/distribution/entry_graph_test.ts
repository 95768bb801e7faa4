// What `import "@switchboard/rpc"` loads, read from `deno info --json mod.ts` (static and
// dynamic imports alike): only this repository's own runtime-free modules, so the entry
// point works in browsers and Node and needs no npm package, node: built-in or permission.
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** Folders "." must not reach: the server side, Deno's adapters, hosting, deployment. */
const SERVER_SIDE = ["src/server/", "src/adapters/", "src/host/", "src/deploy/"];
const LIBRARIES = /\b(hono|saxes|amqplib|msgpackr)\b/;

interface InfoModule {
  specifier: string;
  kind: string;
  dependencies?: {
    specifier: string;
    code?: { specifier: string };
    type?: { specifier: string };
  }[];
}

/** The modules of `entry`'s graph, and every specifier they import (types too). */
async function graph(entry: string): Promise<{ modules: string[]; imports: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
  return {
    modules: info.modules.map((m) => m.kind === "esm" ? m.specifier : `${m.kind}:${m.specifier}`),
    imports: info.modules.flatMap((m) =>
      (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier])
        .filter((s): s is string => s !== undefined)
    ),
  };
}

/** What in `entry`'s graph "." must not have, one line each. */
async function offenders(entry: string): Promise<string[]> {
  const { modules, imports } = await graph(entry);
  const problems: string[] = [];
  for (const specifier of [...modules, ...imports]) {
    if (LIBRARIES.test(specifier)) problems.push(`library: ${specifier}`);
    else if (!specifier.startsWith(ROOT.href)) problems.push(`not this repository's: ${specifier}`);
    else {
      const path = specifier.slice(ROOT.href.length);
      if (SERVER_SIDE.some((dir) => path.startsWith(dir))) problems.push(`server side: ${path}`);
    }
  }
  return [...new Set(problems)];
}

Deno.test(`"." loads no npm package, node: built-in or server-side module`, async () => {
  const { modules } = await graph("mod.ts");
  assert.ok(modules.length > 10, `a real graph: ${modules.length} modules`);
  assert.ok(modules.some((m) => m.endsWith("src/client/http_jsonrpc.ts")), "the HTTP client");
  assert.deepEqual(await offenders("mod.ts"), []);
});

Deno.test("the graph check finds what the server entry point loads", async () => {
  const found = await offenders("server.ts");
  for (const expected of [/library: .*hono/, /library: .*msgpackr/, /server side: src\/server\//]) {
    assert.ok(found.some((line) => expected.test(line)), `${expected} in ${found.join("\n")}`);
  }
});
