/**
 * The modules of this repository that a dynamic `import("…")` names, anywhere in the graph
 * of an entry: deno.json's `lazy-dynamic-imports` keeps `deno run` from loading their graphs
 * at start, and keeps `deno compile` from embedding them, so scripts/compile.ts passes each
 * with `--include`. Read from `deno info --json`, which follows every import.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

interface InfoModule {
  specifier: string;
  dependencies?: { isDynamic?: boolean; code?: { specifier: string } }[];
}

/** Paths (from the repository root) of the modules dynamic imports name in `entry`'s graph. */
export async function lazyModules(entry = "main.ts"): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const { modules } = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: InfoModule[];
  };
  const paths = new Set<string>();
  for (const module of modules) {
    for (const dependency of module.dependencies ?? []) {
      const target = dependency.code?.specifier;
      if (dependency.isDynamic && target?.startsWith(ROOT.href)) {
        paths.add(target.slice(ROOT.href.length));
      }
    }
  }
  return [...paths].sort();
}
