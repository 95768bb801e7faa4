/**
 * Loading component modules: import a module by URL or path, natively (`deno run`) or
 * through the compile-safe loader (compiled binaries, or when asked), and collect the
 * implementations it exports.
 *
 * @module
 */

import type { Implementation } from "../../core/implement.ts";
import { usableImplementations } from "./implementations.ts";
import { bundleComponent } from "./bundle.ts";
import { librarySpecifier } from "./library.ts";
import { dynamicImport } from "./dynamic_import.ts";
import { checkScheme, ComponentError, componentUrl, splitPin } from "./specifier.ts";
import { nativeImportRefused } from "./jsr_host.ts";
import { refuseNonModuleFile, withoutSourceText } from "./module_bytes.ts";

export { ComponentError, componentUrl };
export {
  describeKey,
  implementationKey,
  implementationsOf,
  loadedLine,
  usableImplementations,
} from "./implementations.ts";

/**
 * How modules are imported: `native` uses the runtime's `import()`; `bundled` fetches the
 * graph and imports it through data: URLs (works in a compiled binary); `auto` picks
 * `bundled` in a compiled binary or for integrity-pinned URLs, `native` otherwise.
 */
export type LoaderMode = "auto" | "native" | "bundled";

/** Options of {@linkcode loadComponent}. */
export interface LoadOptions {
  /** Which loader to use (default `auto`). */
  loader?: LoaderMode;
  /** Allow plain http: module URLs (off by default). */
  allowInsecureHttp?: boolean;
  /** Where relative paths are resolved from (default: the working directory). */
  base?: string | URL;
}

/** A loaded component module. */
export interface LoadedComponent {
  /** The module's URL as given (with its integrity pin, if any). */
  url: string;
  /** The implementations it exports, default export first. */
  implementations: Implementation[];
  /** The loader that imported it. */
  loader: "native" | "bundled";
}

/**
 * The loader `auto` stands for here: `bundled` inside a compiled binary, and for remote
 * modules when this copy runs from a JSR package (which Deno forbids to import them).
 */
export function resolveLoader(mode: LoaderMode = "auto", url?: URL): "native" | "bundled" {
  if (mode !== "auto") return mode;
  if (Deno.build.standalone) return "bundled";
  if (url && nativeImportRefused(splitPin(url).url)) return "bundled";
  // The compile-safe loader runs exactly the bytes whose digest it checked.
  if (url && splitPin(url).sha256) return "bundled";
  return "native";
}

/**
 * Imports a component module and returns its implementations. Fails with a
 * {@linkcode ComponentError} naming the URL when the module cannot be loaded, exports no
 * implementation, or implements an interface twice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadComponent } from "@switchboard/rpc/deploy";
 *
 * const dir = await Deno.makeTempDir();
 * const file = `${dir}/echo.ts`;
 * await Deno.writeTextFile(
 *   file,
 *   `import { defineInterface, implement, method, t } from "@switchboard/rpc";
 *   const Echo = defineInterface("Echo", {
 *     echo: method({ params: { text: t.string }, result: t.string }),
 *   });
 *   export default implement(Echo, { echo: ({ text }) => text });`,
 * );
 * const echo = await loadComponent(file, { loader: "bundled" });
 * assert.deepEqual(echo.implementations.map((impl) => impl.interface.name), ["Echo"]);
 * assert.equal(echo.loader, "bundled");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadComponent(
  spec: string | URL,
  options: LoadOptions = {},
): Promise<LoadedComponent> {
  const url = componentUrl(spec, options.base);
  const loader = resolveLoader(options.loader, url);
  const module = await importComponent(url, loader, options.allowInsecureHttp ?? false);
  return { url: url.href, implementations: usableImplementations(url.href, module), loader };
}

/** Imports the module with the chosen loader; errors name the URL. */
export async function importComponent(
  url: URL,
  loader: "native" | "bundled",
  allowInsecureHttp: boolean,
): Promise<Record<string, unknown>> {
  const specifier = loader === "bundled"
    ? (await withUrl(
      url,
      () => bundleComponent(url, { allowInsecureHttp, library: librarySpecifier }),
    )).specifier
    : nativeSpecifier(url, allowInsecureHttp);
  // The runtime reads a native import itself: a device or a huge file is refused first.
  if (loader === "native" && specifier.startsWith("file:")) {
    await withUrl(url, () => refuseNonModuleFile(new URL(specifier)));
  }
  return await withUrl(url, () => dynamicImport(specifier));
}

function nativeSpecifier(url: URL, allowInsecureHttp: boolean): string {
  const { url: bare, sha256 } = splitPin(url);
  if (sha256) {
    throw new ComponentError(
      `${url.href}: integrity pins are checked by the compile-safe loader; use loader ` +
        `"bundled" or "auto"`,
    );
  }
  checkScheme(bare, allowInsecureHttp);
  if (nativeImportRefused(bare)) {
    throw new ComponentError(
      `${url.href}: this switchboard runs from a JSR package, and Deno lets JSR packages ` +
        `import no http(s): module; load it with --loader bundled (or auto)`,
    );
  }
  return bare.href;
}

async function withUrl<T>(url: URL, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const message = withoutSourceText(error instanceof Error ? error.message : String(error));
    if (error instanceof ComponentError && message.includes(url.href)) {
      throw new ComponentError(message, { cause: error.cause });
    }
    throw new ComponentError(`cannot load component ${url.href}: ${message}`);
  }
}
