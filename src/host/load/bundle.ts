/**
 * The compile-safe loader. A `deno compile` binary can only `import()` modules embedded
 * at compile time, npm modules and data: URLs, so a component's module graph is fetched
 * here, its TypeScript is stripped, every specifier is rewritten to the data: URL of its
 * target, and the root comes back as one importable data: URL.
 *
 * Types are stripped with sucrase: it only removes type syntax (no type checking, no
 * down-levelling), which is exactly what running TypeScript needs; it is pure JavaScript,
 * so it works inside a compiled binary, and it is small and widely used. Import
 * specifiers are found with es-module-lexer (the lexer Vite and others rely on), which
 * reports exact source positions of static imports, re-exports, string-literal dynamic
 * imports and `import.meta`.
 *
 * @module
 */

import { init, parse } from "es-module-lexer";
import { type ModuleSource, readModule, type ReadOptions } from "./source.ts";
import { ComponentError, switchboardImport } from "./specifier.ts";
import { encodeBase64 } from "../../core/base64.ts";

/** Options of {@linkcode bundleComponent}. */
export interface BundleOptions extends ReadOptions {
  /** The most modules one component graph may have (default 500). */
  maxModules?: number;
  /**
   * The specifier imports of Switchboard become (the host's `librarySpecifier`, or the
   * one a worker was handed); without it, a component importing Switchboard is refused.
   */
  library?: () => string;
  /** Reads one module (default {@linkcode readModule}); a worker reads with its own grants. */
  read?: (url: URL, options: ReadOptions) => Promise<ModuleSource>;
}

/** A component graph turned into data: URLs. */
export interface Bundle {
  /** The data: URL of the root module; `import()` it. */
  specifier: string;
  /** The URLs of every module of the graph, root first. */
  modules: string[];
}

interface Edit {
  start: number;
  end: number;
  /** The target module's URL, or a ready specifier for `library`/`keep`. */
  target: { url: string } | { specifier: string };
  /** Whether the replaced text includes quotes (string-literal dynamic import). */
  quoted: boolean;
}

interface Node {
  url: URL;
  code: string;
  json: boolean;
  edits: Edit[];
}

/**
 * Fetches a component's module graph (relative and absolute file:/https: imports), strips
 * TypeScript, and returns the root as a data: URL. Imports of Switchboard resolve to this
 * copy of the library; npm:, jsr: and bare imports are refused with advice to bundle.
 *
 * @example
 * ```ts ignore
 * import { bundleComponent } from "./bundle.ts";
 *
 * const bundle = await bundleComponent(new URL("file:///srv/components/search.ts"));
 * const module = await import(bundle.specifier);
 * ```
 */
export async function bundleComponent(root: URL, options: BundleOptions = {}): Promise<Bundle> {
  const max = options.maxModules ?? 500;
  await init;
  const nodes = new Map<string, Node>();
  // Crawl in waves: every module of a wave is fetched at once.
  let wave = [root];
  while (wave.length) {
    const fresh = wave.filter((url, i) =>
      !nodes.has(url.href) && wave.findIndex((u) => u.href === url.href) === i
    );
    if (nodes.size + fresh.length > max) {
      throw new ComponentError(`${root.href} imports more than ${max} modules`);
    }
    const loaded = await Promise.all(fresh.map((url) => loadNode(url, options)));
    wave = [];
    for (const node of loaded) {
      nodes.set(node.key, node.node);
      for (const edit of node.node.edits) {
        if ("url" in edit.target) wave.push(new URL(edit.target.url));
      }
    }
  }
  // Emit children before parents: a data: URL embeds its imports' data: URLs.
  const emitted = new Map<string, string>();
  const emit = (href: string, chain: string[]): string => {
    const done = emitted.get(href);
    if (done) return done;
    if (chain.includes(href)) {
      const cycle = [...chain.slice(chain.indexOf(href)), href].join(" -> ");
      throw new ComponentError(
        `${root.href}: circular imports (${cycle}) cannot be loaded by the compile-safe ` +
          `loader; bundle the component into one module first (deno bundle or esbuild)`,
      );
    }
    const node = nodes.get(href)!;
    let code = node.code;
    if (!node.json) {
      for (const edit of [...node.edits].sort((a, b) => b.start - a.start)) {
        const specifier = "url" in edit.target
          ? emit(edit.target.url, [...chain, href])
          : edit.target.specifier;
        const text = edit.quoted ? JSON.stringify(specifier) : specifier;
        code = code.slice(0, edit.start) + text + code.slice(edit.end);
      }
    }
    const url = `data:${node.json ? "application/json" : "text/javascript"};base64,${
      encodeBase64(new TextEncoder().encode(code))
    }`;
    emitted.set(href, url);
    return url;
  };
  const specifier = emit(root.href, []);
  return { specifier, modules: [...nodes.keys()] };
}

async function loadNode(
  pinned: URL,
  options: BundleOptions,
): Promise<{ key: string; node: Node }> {
  const source = await (options.read ?? readModule)(pinned, options);
  const url = source.url;
  const text = new TextDecoder().decode(source.bytes);
  if (source.mediaType === "json") {
    return { key: pinned.href, node: { url, code: text, json: true, edits: [] } };
  }
  if (source.mediaType === "jsx") {
    throw new ComponentError(
      `${url.href}: JSX is not supported by the compile-safe loader; bundle the component ` +
        `into plain JavaScript first`,
    );
  }
  let code: string;
  // Loaded on first use: evaluating sucrase up front would delay every `serve`'s start.
  const sucrase = source.mediaType === "typescript" ? await import("sucrase") : undefined;
  try {
    code = sucrase
      ? sucrase.transform(text, {
        transforms: ["typescript"],
        disableESTransforms: true,
        filePath: url.pathname,
      }).code
      : text;
  } catch (error) {
    throw new ComponentError(`cannot compile ${url.href}: ${messageOf(error)}`);
  }
  let imports: ReturnType<typeof parse>[0];
  try {
    [imports] = parse(code, url.href);
  } catch (error) {
    throw new ComponentError(`cannot parse ${url.href}: ${messageOf(error)}`);
  }
  const edits: Edit[] = [];
  let usesMeta = false;
  for (const found of imports) {
    if (found.d === -2) {
      // `import.meta` of a data: module says nothing useful: point it at the original.
      edits.push({
        start: found.s,
        end: found.e,
        target: { specifier: META },
        quoted: false,
      });
      usesMeta = true;
      continue;
    }
    const dynamic = found.d >= 0;
    if (found.n === undefined) continue; // a computed dynamic import: left as written
    const target = resolveImport(found.n, url, options.library);
    edits.push({ start: found.s, end: found.e, target, quoted: dynamic });
  }
  if (usesMeta) {
    // The prologue defines what `import.meta` was rewritten to; edits move by its length.
    const prologue = metaPrologue(url);
    for (const edit of edits) {
      edit.start += prologue.length;
      edit.end += prologue.length;
    }
    code = prologue + code;
  }
  return { key: pinned.href, node: { url, code, json: false, edits } };
}

const META = "__switchboardImportMeta";

function metaPrologue(url: URL): string {
  const href = JSON.stringify(url.href);
  const file = url.protocol === "file:" ? decodeURIComponent(url.pathname) : undefined;
  const parts = [
    `url: ${href}`,
    `main: false`,
    `resolve: (s) => new URL(s, ${href}).href`,
  ];
  if (file) {
    parts.push(`filename: ${JSON.stringify(file)}`);
    parts.push(`dirname: ${JSON.stringify(file.replace(/\/[^/]*$/, "") || "/")}`);
  }
  return `const ${META} = { ${parts.join(", ")} };`;
}

/** Decides what one import specifier becomes. */
function resolveImport(
  specifier: string,
  base: URL,
  library: (() => string) | undefined,
): Edit["target"] {
  let resolved: URL | undefined;
  const relative = /^\.{0,2}\//.test(specifier);
  if (relative) {
    resolved = new URL(specifier, base);
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) {
    try {
      resolved = new URL(specifier);
    } catch {
      resolved = undefined;
    }
  }
  const own = switchboardImport(specifier, resolved);
  if (own) {
    if ("subpath" in own) {
      throw new ComponentError(
        `${base.href} imports ${JSON.stringify(specifier)}: a loaded component can import ` +
          `Switchboard's entry points (@switchboard/rpc, @switchboard/rpc/server, …), not its files`,
      );
    }
    if (!library) {
      throw new ComponentError(
        `${base.href} imports Switchboard, which this loader cannot provide`,
      );
    }
    return { specifier: library() };
  }
  if (resolved?.protocol === "node:" || resolved?.protocol === "data:") {
    return { specifier };
  }
  if (resolved?.protocol === "file:" && base.protocol !== "file:") {
    throw new ComponentError(
      `${base.href} imports ${JSON.stringify(specifier)}: a remote module may not import ` +
        `local files`,
    );
  }
  if (resolved && ["file:", "https:", "http:"].includes(resolved.protocol)) {
    // A pin on the importer does not cover its imports; a pin on the import does.
    return { url: resolved.href };
  }
  const kind = resolved?.protocol === "npm:"
    ? "npm:"
    : resolved?.protocol === "jsr:"
    ? "jsr:"
    : resolved
    ? resolved.protocol
    : "bare";
  throw new ComponentError(
    `${base.href} imports ${JSON.stringify(specifier)}: ${kind} imports cannot be loaded ` +
      `by the compile-safe loader (a compiled binary has no package manager); bundle the ` +
      `component first (deno bundle or esbuild) so that it imports only file:/https: ` +
      `modules and @switchboard/rpc`,
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}
