/**
 * How a component loaded through data: URLs reaches Switchboard: the library object is
 * published on `globalThis` under a registered symbol, and a small data: module
 * re-exports its members. Each isolate (the host, every worker) publishes its own copy.
 *
 * @module
 */

/** The registry key of the library on `globalThis`. */
export const LIBRARY_KEY: symbol = Symbol.for("switchboard.rpc/library");

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Publishes a library object in this isolate. */
export function publishLibrary(library: object): void {
  (globalThis as Record<symbol, unknown>)[LIBRARY_KEY] = library;
}

/** The data: URL of a module re-exporting `names` from the published library. */
export function shimSpecifier(names: readonly string[]): string {
  const valid = names.filter((name) => IDENTIFIER.test(name) && name !== "default");
  const source = [
    `const lib = globalThis[Symbol.for("switchboard.rpc/library")];`,
    `if (!lib) throw new Error("Switchboard's library is not published in this isolate");`,
    `export const { ${valid.join(", ")} } = lib;`,
  ].join("\n");
  return `data:text/javascript;base64,${btoa(source)}`;
}
