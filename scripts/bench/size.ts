/**
 * `deno task bench --only size`: what a browser downloads for `import "@switchboard/rpc"`,
 * the "." entry point bundled the way scripts/bundle_client.ts ships it (`deno bundle`,
 * minified ES module, platform browser), next to npm `json-rpc-2.0` bundled the same way;
 * and the heaviest modules of the bundle, to know what to cut when it grows.
 *
 * @module
 */

import { bundleEntry, gzipSize } from "../bundle_client.ts";

const ROOT = new URL("../../", import.meta.url);

/** The target for the "." bundle, minified and gzipped. */
export const SIZE_TARGET_KB = 15;

/** One bundle's size. */
export interface SizeRow {
  /** What was bundled. */
  name: string;
  /** Minified bytes. */
  minified: number;
  /** Minified and gzipped bytes. */
  gzipped: number;
}

/** What `measureSizes` found. */
export interface Sizes {
  /** The "." entry point first, then the peers. */
  rows: SizeRow[];
  /** The largest modules of the "." bundle (unminified bytes), largest first. */
  heaviest: { module: string; bytes: number }[];
}

async function row(name: string, entry: string | URL): Promise<SizeRow> {
  const code = await bundleEntry(entry);
  return { name, minified: new TextEncoder().encode(code).length, gzipped: await gzipSize(code) };
}

/** The bytes of each module in an unminified bundle, read from esbuild's `// path` lines. */
function byModule(code: string): { module: string; bytes: number }[] {
  const sizes = new Map<string, number>();
  let current = "(bundle glue)";
  for (const line of code.split("\n")) {
    const marker = /^\/\/ ((?:src\/|\.\.\/|npm:|mod\.ts)\S*)$/.exec(line);
    if (marker) current = marker[1];
    else sizes.set(current, (sizes.get(current) ?? 0) + line.length + 1);
  }
  return [...sizes].map(([module, bytes]) => ({ module, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** Bundles "." and `json-rpc-2.0` and measures them. */
export async function measureSizes(): Promise<Sizes> {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-size-" });
  try {
    // json-rpc-2.0 ships CommonJS, so a bundle holds all of it whatever is imported.
    const peer = `${dir}/json_rpc_2.ts`;
    await Deno.writeTextFile(peer, `export * from "json-rpc-2.0";\n`);
    const mod = new URL("mod.ts", ROOT);
    return {
      rows: [
        await row(`Switchboard "." (mod.ts)`, mod),
        await row("json-rpc-2.0 (npm) ¹", peer),
      ],
      heaviest: byModule(await bundleEntry(mod, { minify: false })).slice(0, 8),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** The Markdown tables of `sizes`. */
export function sizeTable(sizes: Sizes): string {
  const lines = [
    "| Browser bundle | minified | minified + gzip |",
    "|---|--:|--:|",
    ...sizes.rows.map((r) => `| ${r.name} | ${kb(r.minified)} | ${kb(r.gzipped)} |`),
    "",
    '| Heaviest modules of the "." bundle | bytes before minifying |',
    "|---|--:|",
    ...sizes.heaviest.map((m) => `| ${m.module} | ${m.bytes} |`),
    "",
    "¹ Bundled the same way (`deno bundle --minify --format esm --platform browser`); it is " +
    "a JSON-RPC client and server without types, validation or auth. KB = 1024 bytes; gzip " +
    "at CompressionStream's default level.",
  ];
  return lines.join("\n");
}

/** The "." bundle's gzipped size in KB. */
export function switchboardKb(sizes: Sizes): number {
  return sizes.rows[0].gzipped / 1024;
}

if (import.meta.main) console.log(sizeTable(await measureSizes()));
