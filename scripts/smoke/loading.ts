/**
 * The component-loading part of the binary smoke test: one server with a component by
 * file: URL, one by http: URL (served here, with a relative import), and one in a worker
 * that may read one directory and is refused another.
 *
 * @module
 */

import { freePorts, join, run, Running } from "./processes.ts";
import type { SmokeKit } from "./kit.ts";

const COMPONENTS = new URL("./components/", import.meta.url);

/** Serves scripts/smoke/components/ over plain http on 127.0.0.1; records what was asked. */
function serveComponents() {
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const name = new URL(req.url).pathname.slice(1);
    hits.push(name);
    if (!/^[a-z_]+\.ts$/.test(name)) return new Response("not found\n", { status: 404 });
    const body = await Deno.readFile(new URL(name, COMPONENTS)).catch(() => undefined);
    return body
      ? new Response(body, { headers: { "content-type": "application/typescript" } })
      : new Response("not found\n", { status: 404 });
  });
  const origin = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return { origin, hits, close: () => server.shutdown() };
}

/** Runs the component-loading checks. */
export async function checkComponents(kit: SmokeKit): Promise<void> {
  const { program, check, call, expectEqual } = kit;
  const files = serveComponents();
  // Canonical paths (macOS: /var is /private/var; Windows: 8.3 short names), so the grant
  // and the path read are spelt alike.
  const granted = await Deno.realPath(await Deno.makeTempDir({ prefix: "smoke-granted-" }));
  const denied = await Deno.realPath(await Deno.makeTempDir({ prefix: "smoke-denied-" }));
  await Deno.writeTextFile(join(granted, "note.txt"), "granted text");
  await Deno.writeTextFile(join(denied, "secret.txt"), "secret text");
  const [httpPort] = freePorts(1);
  const http = `http://127.0.0.1:${httpPort}`;
  const greeter = new URL("greeter.ts", COMPONENTS).href;
  const relay = `${files.origin}/relay.ts`;
  const reader = new URL("reader.ts", COMPONENTS).href;
  const server = new Running(program, [
    "serve",
    "--http",
    `127.0.0.1:${httpPort}`,
    "--tcp",
    "off",
    "--component",
    greeter,
    "--component",
    relay,
    "--allow-insecure-http",
    "--component",
    reader,
    "--isolate",
    "worker",
    `--allow-read=${granted}`,
  ]);
  try {
    const up = await check("serve loads components (file:, http:, a worker)", async () => {
      await server.waitFor("serving line", (l) => l.startsWith("serving ") || undefined, 60_000);
    });
    await check("a component by file: URL", async () => {
      if (!up) throw new Error("serve did not start");
      const loaded = `loaded Greeter (2 methods) from ${greeter}`;
      if (!server.lines.includes(loaded)) throw new Error(`no line "${loaded}"\n${server.tail()}`);
      expectEqual(
        "Greeter.hello",
        await call([http, "Greeter.hello", '{"name":"ada"}']),
        "hello ada",
      );
    });
    await check(
      "a component by http: URL (--allow-insecure-http), with a relative import",
      async () => {
        if (!up) throw new Error("serve did not start");
        const loaded = `loaded Relay (2 methods) from ${relay}`;
        if (!server.lines.includes(loaded)) {
          throw new Error(`no line "${loaded}"\n${server.tail()}`);
        }
        if (!files.hits.includes("greeter.ts")) throw new Error(`fetched only ${files.hits}`);
        const result = await call([http, "Relay.greet", '{"name":"bob"}']);
        expectEqual("Relay.greet", result, "relayed: hello bob");
      },
    );
    await check("a worker component reads what it was granted", async () => {
      if (!up) throw new Error("serve did not start");
      const path = join(granted, "note.txt");
      expectEqual(
        "Reader.read",
        await call([http, "Reader.read", JSON.stringify({ path })]),
        "granted text",
      );
    });
    await check("a worker component is refused what it was not granted", async () => {
      if (!up) throw new Error("serve did not start");
      const path = join(denied, "secret.txt");
      const out = await run(program, ["call", http, "Reader.read", JSON.stringify({ path })]);
      // The caller learns only that access was denied; what and how to grant it is logged.
      const caller = "error: PermissionDenied (-32007): the component was denied an access " +
        "it needs; the server log says which";
      if (out.code !== 1 || !out.stderr.split("\n").includes(caller)) {
        throw new Error(`exit ${out.code}: ${out.stdout}${out.stderr}`);
      }
      if (out.stdout.includes("secret text")) throw new Error("the secret was read");
      if (out.stderr.includes(denied)) throw new Error(`the caller saw the path: ${out.stderr}`);
      const access = `Requires read access to "${path}"`;
      const grant = `--allow-read=${path} after --component ${reader}`;
      const logged = (l: string) => (l.includes(access) && l.includes(grant)) || undefined;
      await server.waitFor(`a log line naming ${access} and ${grant}`, logged, 10_000);
    });
    await check(
      "an http: component without --allow-insecure-http is refused at start",
      async () => {
        const [port] = freePorts(1);
        const out = await run(program, [
          "serve",
          "--http",
          `127.0.0.1:${port}`,
          "--tcp",
          "off",
          "--component",
          relay,
        ]);
        if (out.code === 0 || !/--allow-insecure-http/.test(out.stderr)) {
          throw new Error(`exit ${out.code}: ${out.stdout}${out.stderr}`);
        }
      },
    );
  } finally {
    await server.stop().catch(() => {});
    await files.close();
  }
  await Deno.remove(granted, { recursive: true });
  await Deno.remove(denied, { recursive: true });
}
