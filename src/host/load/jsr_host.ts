/**
 * Whether this copy of Switchboard runs from a JSR package (`deno install jsr:…/cli`).
 * Deno refuses every http(s): import made by a JSR module ("JSR packages cannot import
 * non-JSR remote modules"), `import()` included, so such a host cannot load remote
 * components natively; the compile-safe loader (data: URLs) still can.
 *
 * @module
 */

/** Whether a module URL is a file of a JSR package (`<registry>/@scope/name/<version>/…`). */
export function isJsrModuleUrl(url: string | URL): boolean {
  const parsed = new URL(url);
  return (parsed.protocol === "https:" || parsed.protocol === "http:") &&
    /^\/@[a-z0-9-]+\/[a-z0-9-]+\/\d+\.\d+\.\d+[^/]*\/./.test(parsed.pathname);
}

/** Whether this copy of the library was loaded from a JSR package. */
export const RUNS_FROM_JSR: boolean = isJsrModuleUrl(import.meta.url);

/** Whether Deno will refuse a native `import()` of `url` by this copy. */
export function nativeImportRefused(url: URL, fromJsr: boolean = RUNS_FROM_JSR): boolean {
  return fromJsr && (url.protocol === "https:" || url.protocol === "http:");
}
