/**
 * Steps of the JSR distribution test that use the published `./cli` export: `deno install`
 * it, run `--version`, `serve`, `call`, the address mistakes, and components served over
 * http: that import `jsr:@switchboard/rpc` under both loaders. Also the module graph of a
 * published specifier, as `deno info --json` sees it from outside the repository.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import type { JsrRegistry } from "../fixtures/jsr_registry.ts";
import { type Ran, run, serve, type Serving } from "./processes.ts";
import { greeterComponent } from "./consumers.ts";

/** What the steps share. */
export interface Context {
  registry: JsrRegistry;
  /** A temporary directory outside the repository. */
  home: string;
  /** JSR_URL, DENO_DIR (in `home`) and PATH for every user process. */
  env: Record<string, string>;
  /** `jsr:@switchboard/rpc@<version>`. */
  spec: string;
  version: string;
  /** The repository root. */
  root: string;
  /** `jsr:@switchboard/rpc@<version>/cli`. */
  cli: string;
  /** Where the test installs the `switchboard` command. */
  bin: string;
  /** Servers to stop at the end, whatever happened. */
  servers: Serving[];
}

/** A published module graph: npm package names in it, and every resolution error. */
export interface Graph {
  npm: string[];
  errors: string[];
}

/** `deno info --json SPECIFIER`, run from `home` (no deno.json) with the test's DENO_DIR. */
export async function graphOf(ctx: Context, specifier: string): Promise<Graph> {
  const ran = await run(Deno.execPath(), ["info", "--json", specifier], {
    cwd: ctx.home,
    env: ctx.env,
  });
  assert.equal(ran.code, 0, ran.stderr);
  const info = JSON.parse(ran.stdout);
  const npm = Object.keys(info.npmPackages ?? {}).map((id) => id.replace(/^(@?[^@]+)@.*$/, "$1"));
  const errors: string[] = [];
  const walk = (value: unknown, where: string) => {
    if (Array.isArray(value)) return value.forEach((v) => walk(v, where));
    if (!value || typeof value !== "object") return;
    const node = value as Record<string, unknown>;
    const here = typeof node.specifier === "string" ? node.specifier : where;
    if (typeof node.error === "string") errors.push(`${here}: ${node.error}`);
    for (const child of Object.values(node)) walk(child, here);
  };
  walk(info.modules, specifier);
  return { npm: [...new Set(npm)].sort(), errors };
}

const oneLine = (text: string) => {
  const lines = text.trimEnd().split("\n").filter((l) => !/^[│╭╰]|^\s*$/.test(l));
  return lines.at(-1) ?? "";
};

/** Runs the CLI steps; `t` is the parent test's context. */
export async function cliSteps(t: Deno.TestContext, ctx: Context): Promise<void> {
  const bin = ctx.bin;
  const sb = (...args: string[]) => run(bin, args, { cwd: ctx.home, env: ctx.env });

  const installed = await t.step(
    "deno install -g of ./cli gives a switchboard command",
    async () => {
      const ran = await run(
        Deno.execPath(),
        [
          "install",
          "-g",
          "-A",
          // As README's install command: without it each start reads every command's graph.
          "--unstable-lazy-dynamic-imports",
          "--unstable-no-legacy-abort",
          "-n",
          "switchboard",
          "--root",
          dirname(dirname(bin)),
          ctx.cli,
        ],
        { cwd: ctx.home, env: ctx.env },
      );
      assert.equal(ran.code, 0, ran.stderr);
      assert.ok((await Deno.stat(bin)).isFile);
      for (const flag of ["--version", "-V"]) {
        const version = await sb(flag);
        assert.equal(version.code, 0, version.stderr);
        assert.equal(version.stdout, `switchboard ${ctx.version}\n`);
      }
    },
  );
  if (!installed) return;

  await t.step("the installed command serves, calls, reports mistakes and stops", async () => {
    const server = await serve(bin, ["serve", "--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"], {
      http: true,
      tcp: true,
    }, { cwd: ctx.home, env: ctx.env });
    ctx.servers.push(server);
    const http = server.http!, tcp = server.tcp!;
    const hostPort = (url: string) => new URL(url).host;
    const [byName, overTcp, overXml, noScheme, inUse] = await Promise.all([
      sb("call", http, "Calculator.add", '{"a": 2, "b": 3}'),
      sb("call", tcp, "Calculator.add", "[20, 22]"),
      sb("call", http, "Calculator.subtract", "[10, 4]", "--protocol", "xmlrpc"),
      sb("call", hostPort(http), "Calculator.add", "[1, 2]"),
      sb("serve", "--http", "off", "--tcp", hostPort(tcp)),
    ]);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(JSON.parse(byName.stdout), 5);
    assert.equal(overTcp.code, 0, overTcp.stderr);
    assert.equal(JSON.parse(overTcp.stdout), 42);
    assert.equal(overXml.code, 0, overXml.stderr);
    assert.equal(JSON.parse(overXml.stdout), 6);
    assert.equal(noScheme.code, 2, noScheme.stderr);
    assert.match(
      oneLine(noScheme.stderr),
      new RegExp(`^switchboard call: ${hostPort(http)} has no scheme; add http:// `),
    );
    assert.equal(inUse.code, 1, inUse.stderr);
    assert.equal(
      oneLine(inUse.stderr),
      `switchboard serve: ${hostPort(tcp)} is already in use (--tcp)`,
    );
    const stopped = await server.stop();
    assert.equal(stopped.code, 0, stopped.output);
    assert.match(stopped.output, /shutting down/);
  });

  await componentSteps(t, ctx, sb);
}

/**
 * A component served over http: that imports `jsr:@switchboard/rpc@<version>`, under both
 * loaders, hosted by this checkout and by the installed command.
 */
async function componentSteps(
  t: Deno.TestContext,
  ctx: Context,
  sb: (...args: string[]) => Promise<Ran>,
): Promise<void> {
  const source = greeterComponent(ctx.spec);
  await using files = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(source, {
        headers: { "content-type": "application/typescript; charset=utf-8" },
      }),
  );
  const remote = `http://127.0.0.1:${files.addr.port}/greeter.ts`;
  const local = join(ctx.home, "greeter.ts");
  await Deno.writeTextFile(local, source);
  const checkout = (...args: string[]) =>
    serve(Deno.execPath(), ["run", "-A", "--no-lock", "main.ts", "serve", ...args], {
      http: true,
      tcp: false,
    }, { cwd: ctx.root, env: { JSR_URL: ctx.env.JSR_URL } });
  const installed = (...args: string[]) =>
    serve(ctx.bin, ["serve", ...args], { http: true, tcp: false }, { cwd: ctx.home, env: ctx.env });

  /** Serves the component, calls it, stops; returns the registry paths requested meanwhile. */
  const greet = async (host: typeof checkout, url: string, loader: string) => {
    const before = ctx.registry.requests().length;
    const server = await host(
      ...["--component", url, "--allow-insecure-http", "--loader", loader],
      ...["--http", "127.0.0.1:0", "--tcp", "off"],
    );
    ctx.servers.push(server);
    assert.match(server.output(), new RegExp(`loaded Greeter \\(1 method\\) from ${url}`));
    const greeted = await sb("call", server.http!, "Greeter.greet", '{"name": "Ada"}');
    assert.equal(greeted.code, 0, greeted.stderr);
    assert.equal(JSON.parse(greeted.stdout), "hello Ada");
    const stopped = await server.stop();
    assert.equal(stopped.code, 0, stopped.output);
    return ctx.registry.requests().slice(before).map((r) => r.path);
  };

  for (const loader of ["native", "bundled"]) {
    await t.step(
      `checkout host: http: component importing ${ctx.spec}, --loader ${loader}`,
      async () => {
        // Deno resolves jsr:@switchboard/rpc to the workspace's own package, never the registry.
        assert.deepEqual(await greet(checkout, remote, loader), []);
      },
    );
  }
  await t.step("installed host: an http: component loads bundled (auto picks it)", async () => {
    for (const loader of ["bundled", "auto"]) {
      // Its import of the library is the host's own copy: nothing more from the registry.
      assert.deepEqual(await greet(installed, remote, loader), [], loader);
    }
  });
  await t.step("installed host: --loader native says to use bundled for http:", async () => {
    const refused = await sb(
      ...["serve", "--component", remote, "--allow-insecure-http", "--loader", "native"],
      ...["--http", "127.0.0.1:0", "--tcp", "off"],
    );
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(
      oneLine(refused.stderr),
      `switchboard serve: ${remote}: this switchboard runs from a JSR package, and Deno lets ` +
        `JSR packages import no http(s): module; load it with --loader bundled (or auto)`,
    );
  });
  await t.step("installed host: a file: component's jsr: import resolves natively", async () => {
    await greet(installed, `file://${local}`, "native");
  });
}
