// The JSR registry fixture against the real `deno publish` and `deno run`, with a tiny
// package: what it refuses (wrong token, a package that does not exist), a second publish
// of the same version, a path longer than a tar header holds, and that the checksums it
// serves are the ones Deno verifies.

import assert from "node:assert/strict";
import { join } from "node:path";
import { startJsrRegistry } from "../fixtures/jsr_registry.ts";
import { run } from "./processes.ts";

const DENO = Deno.execPath();
/** Longer than the 100 bytes of a tar header's name field: needs a GNU long-name entry. */
const DEEP = `lib/${"nested_directory_name/".repeat(4)}a_module_with_a_long_name.ts`;

async function writePackage(dir: string, name: string): Promise<void> {
  await Deno.mkdir(join(dir, DEEP, ".."), { recursive: true });
  await Deno.writeTextFile(
    join(dir, "deno.json"),
    JSON.stringify({ name, version: "1.0.0", license: "MIT", exports: { ".": "./mod.ts" } }),
  );
  await Deno.writeTextFile(
    join(dir, "mod.ts"),
    `import { deep } from "./${DEEP}";\n/** A greeting. */\nexport const hello: string = \`hello \${deep}\`;\n`,
  );
  await Deno.writeTextFile(join(dir, DEEP), `/** Deep. */\nexport const deep: string = "deep";\n`);
}

Deno.test("jsr registry fixture: refusals, republish, long paths, checked downloads", async () => {
  const registry = await startJsrRegistry({ token: "right", packages: ["@fixture/tiny"] });
  const home = await Deno.makeTempDir({ prefix: "switchboard-jsr-fixture-" });
  const env = { JSR_URL: registry.url, DENO_DIR: join(home, "deno_dir") };
  const publish = (dir: string, token: string) =>
    run(DENO, ["publish", "--token", token, "--allow-dirty", "--no-provenance"], {
      cwd: join(home, dir),
      env,
    });
  const posts = () => registry.requests().filter((r) => r.method === "POST").length;
  try {
    await writePackage(join(home, "tiny"), "@fixture/tiny");
    await writePackage(join(home, "absent"), "@fixture/absent");

    const wrongToken = await publish("tiny", "wrong");
    assert.equal(wrongToken.code, 1);
    assert.match(wrongToken.stderr, /invalidBearerToken/);
    const absent = await publish("absent", "right");
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /don't exist.*\n- .*new\?scope=fixture&package=absent/);
    assert.deepEqual(registry.packages(), []);

    const first = await publish("tiny", "right");
    assert.equal(first.code, 0, first.stderr);
    const [tiny] = registry.packages();
    assert.deepEqual([...tiny.files.keys()].sort(), ["/deno.json", `/${DEEP}`, "/mod.ts"]);
    const postsBefore = posts();
    const again = await publish("tiny", "right");
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Skipping, already published/);
    assert.equal(posts(), postsBefore, "a published version is not uploaded again");

    const meta = await (await fetch(`${registry.url}@fixture/tiny/meta.json`)).json();
    assert.deepEqual(meta, {
      scope: "fixture",
      name: "tiny",
      latest: "1.0.0",
      versions: { "1.0.0": {} },
    });
    const missing = await fetch(`${registry.url}@fixture/tiny/2.0.0_meta.json`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    await Deno.mkdir(join(home, "user"));
    await Deno.writeTextFile(
      join(home, "user", "main.ts"),
      `import { hello } from "jsr:@fixture/tiny@1.0.0";\nconsole.log(hello);\n`,
    );
    const used = await run(DENO, ["run", "main.ts"], { cwd: join(home, "user"), env });
    assert.equal(used.code, 0, used.stderr);
    assert.equal(used.stdout, "hello deep\n");
    const served = await fetch(`${registry.url}@fixture/tiny/1.0.0/mod.ts`);
    assert.equal(served.headers.get("content-type"), "application/typescript; charset=utf-8");
    await served.body?.cancel();

    // A file that no longer matches its manifest checksum is refused by Deno.
    tiny.files.set("/mod.ts", new TextEncoder().encode(`export const hello = "tampered";\n`));
    const tampered = await run(DENO, ["run", "--reload", "main.ts"], {
      cwd: join(home, "user"),
      env: { ...env, DENO_DIR: join(home, "fresh_deno_dir") },
    });
    assert.notEqual(tampered.code, 0, tampered.stdout);
    assert.match(tampered.stderr, /Integrity check failed in package/);
    assert.match(
      tampered.stderr,
      /Specifier: http:\/\/127\.0\.0\.1:\d+\/@fixture\/tiny\/1\.0\.0\/mod\.ts/,
    );
  } finally {
    await registry.close();
    await Deno.remove(home, { recursive: true }).catch(() => {});
  }
});
