// The package as its users get it: the real `deno publish` uploads this checkout to a
// local JSR registry (tests/fixtures/jsr_registry.ts, `JSR_URL`), then programs in a
// temporary directory outside the repository (no deno.json, their own DENO_DIR) import
// `jsr:@switchboard/rpc@<version>` and its subpath exports and call a live server, and
// `deno install` turns the `./cli` export into a working `switchboard` command.

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { startJsrRegistry } from "../fixtures/jsr_registry.ts";
import { run, serve, type Serving } from "./processes.ts";
import { EXPECTED, exportsOf, jsonRpcClient, tcpClient, xmlRpcClient } from "./consumers.ts";
import { cliSteps, type Context, graphOf } from "./jsr_cli.ts";

const ROOT = fromFileUrl(new URL("../../", import.meta.url));
const CONFIG = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
const NAME: string = CONFIG.name;
const VERSION: string = CONFIG.version;
const SPEC = `jsr:${NAME}@${VERSION}`;
const DENO = Deno.execPath();
/** npm packages only a server needs: a client import must not download them. */
const SERVER_ONLY = ["hono", "saxes", "amqplib"];
/** Deno's stderr without its download progress lines. */
const quiet = (stderr: string) => stderr.replace(/^Download .*\n/gm, "");

Deno.test("jsr: deno publish, then import, install and serve the published package", async (t) => {
  const registry = await startJsrRegistry({ packages: [NAME] });
  const home = await Deno.makeTempDir({ prefix: "switchboard-jsr-" });
  assert.ok(!home.startsWith(ROOT), `${home} must be outside the repository`);
  const env = {
    JSR_URL: registry.url,
    DENO_DIR: join(home, "deno_dir"),
    PATH: `${dirname(DENO)}:${Deno.env.get("PATH") ?? ""}`,
  };
  const ctx: Context = {
    registry,
    home,
    env,
    spec: SPEC,
    version: VERSION,
    root: ROOT,
    cli: `${SPEC}/cli`,
    bin: join(home, "root", "bin", "switchboard"),
    servers: [],
  };
  let demo: Serving | undefined;
  /** Runs a program (source text) with `deno run` from its own folder in `home`. */
  const program = async (name: string, source: string, permissions: string[], arg = "") => {
    const dir = join(home, name);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "main.ts"), source);
    return await run(DENO, ["run", ...permissions, "main.ts", ...(arg ? [arg] : [])], {
      cwd: dir,
      env,
    });
  };
  try {
    await t.step("deno publish uploads the package through the registry API", async () => {
      const published = await run(
        DENO,
        ["publish", "--token", "dummy", "--allow-dirty", "--no-provenance"],
        { cwd: ROOT, env: { JSR_URL: registry.url } },
      );
      const output = published.stdout + published.stderr;
      assert.equal(published.code, 0, output);
      assert.match(output, new RegExp(`Successfully published ${NAME}@${VERSION}`));
      const [scope, pkg] = NAME.slice(1).split("/");
      const api = `/api/scopes/${scope}/packages/${pkg}`;
      assert.deepEqual(
        registry.requests().map((r) =>
          `${r.method} ${
            r.path.replace(/publish_status\/[\w-]+$/, "publish_status/:task")
          } ${r.status}`
        ),
        [
          `GET ${api}/versions/${VERSION} 404`, // not published yet
          `GET ${api} 200`, // the package exists
          `POST ${api}/versions/${VERSION}?config=%2Fdeno.json 200`, // the gzipped tarball
          `GET /api/publish_status/:task 200`, // polled until processed
        ],
      );
      const [version, ...more] = registry.packages();
      assert.equal(more.length, 0);
      assert.equal(version.version, VERSION);
      assert.deepEqual(version.exports, CONFIG.exports);
      const paths = [...version.files.keys()];
      for (const include of CONFIG.publish.include as string[]) {
        // `*.ts`: the root modules, which are the entry points (tests/layout_test.ts).
        const hit = include.endsWith("/")
          ? paths.some((p) => p.startsWith(`/${include}`))
          : include === "*.ts"
          ? Object.values(CONFIG.exports as Record<string, string>).every((file) =>
            paths.includes(file.slice(1))
          )
          : paths.includes(`/${include}`);
        assert.ok(hit, `publish.include ${include} is not in the package`);
      }
      assert.deepEqual(paths.filter((p) => p.startsWith("/tests/")), []);
      // deno publish rewrote bare imports through deno.json's import map.
      const text = [...version.files].filter(([path]) => path !== "/deno.json")
        .map(([, bytes]) => new TextDecoder().decode(bytes)).join("\n");
      const rewritten = Object.values(CONFIG.imports as Record<string, string>)
        .filter((target) => text.includes(`"${target}"`));
      assert.ok(rewritten.length > 0, "no import was rewritten to its npm: specifier");
      console.log(`published ${paths.length} files; imports rewritten: ${rewritten.join(", ")}`);
    });

    demo = await serve(
      DENO,
      ["run", "-A", "main.ts", "serve", "--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"],
      { http: true, tcp: true },
      { cwd: ROOT },
    );
    ctx.servers.push(demo);

    await t.step(`"." calls the server over JSON-RPC with --allow-net only`, async () => {
      const before = registry.requests().length;
      const ran = await program("client", jsonRpcClient(SPEC), ["--allow-net"], demo!.http);
      const files = registry.requests().slice(before)
        .filter((r) => r.path.startsWith(`/${NAME}/${VERSION}/`) && r.status === 200);
      const bytes = files.reduce((sum, r) => sum + r.bytes, 0);
      console.log(`a client downloads ${files.length} files, ${bytes} bytes of ${NAME}`);
      assert.equal(ran.code, 0, quiet(ran.stderr));
      assert.deepEqual(JSON.parse(ran.stdout), EXPECTED);
    });

    await t.step(`"." pulls in no server-only npm package (${SERVER_ONLY})`, async () => {
      const graph = await graphOf(ctx, SPEC);
      console.log(`npm packages in its graph: ${graph.npm.join(", ")}`);
      assert.deepEqual(graph.errors, []);
      const serverOnly = graph.npm.filter((name) => SERVER_ONLY.includes(name));
      assert.deepEqual(serverOnly, [], `import "${SPEC}" brings ${serverOnly.join(", ")}`);
    });

    for (const subpath of Object.keys(CONFIG.exports)) {
      if (subpath === "." || subpath === "./cli") continue;
      await t.step(`"${subpath}" loads from the registry and resolves`, async () => {
        const graph = await graphOf(ctx, `${SPEC}/${subpath.slice(2)}`);
        assert.deepEqual(graph.errors, []);
        const ran = await program(`exports_${subpath.slice(2)}`, exportsOf(SPEC, subpath), ["-A"]);
        assert.equal(ran.code, 0, quiet(ran.stderr));
        assert.ok(JSON.parse(ran.stdout).length > 0, `${subpath} exports nothing`);
      });
      const client = subpath === "./xmlrpc"
        ? { source: xmlRpcClient(SPEC, subpath), url: demo.http!, perms: ["--allow-net"] }
        : subpath === "./tcp"
        // msgpackr's plain entry: no environment read, no native add-on probe.
        ? { source: tcpClient(SPEC, subpath), url: demo.tcp!, perms: ["--allow-net"] }
        : undefined;
      if (!client) continue;
      await t.step(`"${subpath}" calls the server with --allow-net only`, async () => {
        const ran = await program(
          `client_${subpath.slice(2)}`,
          client.source,
          client.perms,
          client.url,
        );
        assert.equal(ran.code, 0, quiet(ran.stderr));
        assert.deepEqual(JSON.parse(ran.stdout), EXPECTED);
      });
    }

    await cliSteps(t, ctx);
  } finally {
    for (const server of ctx.servers) await server.stop();
    await registry.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
