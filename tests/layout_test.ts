// One way down: the module graph of every file under src/ (static and dynamic imports, code
// and types, read from `deno info --json`) has no cycle and no import of a root entry file,
// and the folders that must import nothing above them do not. And the entry points are the
// ones src/entries.ts lists: deno.json's exports and the root files agree with it.

import assert from "node:assert/strict";
import { ENTRIES } from "../src/entries.ts";

const ROOT = new URL("../", import.meta.url);

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

async function sourceFiles(dir: URL): Promise<URL[]> {
  const files: URL[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) files.push(...await sourceFiles(url));
    else if (/\.tsx?$/.test(entry.name)) files.push(url);
  }
  return files;
}

/** Every import edge between this repository's modules, from every file under src/. */
async function edges(): Promise<Map<string, Set<string>>> {
  const dir = await Deno.makeTempDir();
  try {
    const all = `${dir}/all.ts`;
    const files = await sourceFiles(new URL("src/", ROOT));
    await Deno.writeTextFile(all, files.map((url) => `import "${url.href}";\n`).join(""));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, all],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(120_000),
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const { modules } = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: InfoModule[];
    };
    const graph = new Map<string, Set<string>>();
    const own = (s: string | undefined) =>
      s?.startsWith(ROOT.href) ? s.slice(ROOT.href.length) : "";
    for (const module of modules) {
      const from = own(module.specifier);
      if (!from) continue;
      const to = new Set<string>();
      for (const dep of module.dependencies ?? []) {
        for (const target of [own(dep.code?.specifier), own(dep.type?.specifier)]) {
          if (target) to.add(target);
        }
      }
      graph.set(from, to);
    }
    assert.ok(graph.size >= files.length, `a real graph: ${graph.size} modules`);
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The import cycles of a graph (its strongly connected components with a cycle), Tarjan. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.has(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const ENTRY_FILES = Object.values(ENTRIES).map((e) => e.file).sort();

/** What the files of a folder may import outside it (README's Layout table). */
const BELOW: Record<string, RegExp> = {
  "src/core/": /^src\/core\//,
  "src/wire/": /^src\/(core|wire)\//,
  "src/auth/": /^src\/(core|wire|auth)\//,
  "src/entries.ts": /^$/,
};

Deno.test("layout: nothing under src/ imports a root file, and no src/ module is in a cycle", async () => {
  const graph = await edges();
  const src = new Map([...graph].filter(([from]) => from.startsWith("src/")));
  const upward = [...src].flatMap(([from, to]) =>
    [...to].filter((t) => !t.startsWith("src/")).map((t) => `${from} -> ${t}`)
  );
  assert.deepEqual(upward, [], "imports of root files from src/");
  assert.deepEqual(cycles(src).map((c) => c.join(" <-> ")), [], "import cycles among src/ modules");
  const above = [...src].flatMap(([from, to]) => {
    const folder = Object.keys(BELOW).find((f) => from.startsWith(f));
    if (!folder) return [];
    return [...to].filter((t) => !BELOW[folder].test(t)).map((t) => `${from} -> ${t}`);
  });
  assert.deepEqual(above, [], "imports above a folder's layer");
});

Deno.test("layout: the check finds a cycle and an import of a root file", () => {
  const graph = new Map([
    ["src/a.ts", new Set(["src/b.ts"])],
    ["src/b.ts", new Set(["src/c.ts", "mod.ts"])],
    ["src/c.ts", new Set(["src/a.ts"])],
    ["src/d.ts", new Set(["src/d.ts"])],
  ]);
  assert.deepEqual(cycles(graph), [["src/a.ts", "src/b.ts", "src/c.ts"], ["src/d.ts"]]);
});

Deno.test("layout: deno.json's exports and the root modules are src/entries.ts's entries", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.deepEqual(
    config.exports,
    Object.fromEntries(Object.entries(ENTRIES).map(([entry, { file }]) => [entry, `./${file}`])),
  );
  const root: string[] = [];
  for await (const entry of Deno.readDir(ROOT)) {
    if (entry.isFile && /\.tsx?$/.test(entry.name)) root.push(entry.name);
  }
  // deno.json's tasks and publish.include name the entry files as `*.ts`.
  assert.deepEqual(root.sort(), ENTRY_FILES);
  assert.ok(config.publish.include.includes("*.ts"));
});

Deno.test("layout: tests/ mirrors src/ (every folder under src/ has its folder of tests)", async () => {
  const folders = async (dir: URL, prefix = ""): Promise<string[]> => {
    const found: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isDirectory) continue;
      const path = `${prefix}${entry.name}/`;
      found.push(path, ...await folders(new URL(`${entry.name}/`, dir), path));
    }
    return found;
  };
  const tests = new Set(await folders(new URL("tests/", ROOT)));
  const missing = (await folders(new URL("src/", ROOT))).filter((f) => !tests.has(f));
  assert.deepEqual(missing, [], "src/ folders without a tests/ folder");
});
