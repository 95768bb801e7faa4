/**
 * The package's entry points, once: each subpath of deno.json's `exports`, its file, and
 * the keys under which importing it plugs a transport into `connect()` (URL schemes, and
 * `xmlrpc+http:` for XML-RPC over http(s)). The loader, the bundler, `connect()` and the
 * CLI read this table; tests/layout_test.ts checks deno.json and the root files against it.
 *
 * @module
 */

/** Every entry point, by its subpath in deno.json's `exports`. */
export const ENTRIES = {
  ".": { file: "mod.ts", schemes: ["http:", "https:", "ws:", "wss:"] },
  "./xmlrpc": { file: "xmlrpc.ts", schemes: ["xmlrpc+http:"] },
  "./tcp": { file: "tcp.ts", schemes: ["tcp:", "tls:"] },
  "./amqp": { file: "amqp.ts", schemes: ["amqp:", "amqps:"] },
  "./server": { file: "server.ts", schemes: [] },
  "./deploy": { file: "deploy.ts", schemes: [] },
  "./cli": { file: "main.ts", schemes: [] },
} as const;

/** An entry point's subpath (`"."`, `"./tcp"`, …). */
export type Entry = keyof typeof ENTRIES;

/** The entry points a loaded component may import (all but the CLI). */
export type LibraryEntry = Exclude<Entry, "./cli">;

/** The entry points whose import plugs in a transport `connect()` does not have built in. */
export type TransportEntry = Exclude<
  { [E in Entry]: (typeof ENTRIES)[E]["schemes"]["length"] extends 0 ? never : E }[Entry],
  "."
>;

/** The package's name on JSR. */
export const PACKAGE = "@switchboard/rpc";

/** How a program imports an entry point: `@switchboard/rpc/tcp`. */
export function importName(entry: Entry): string {
  return PACKAGE + entry.slice(1);
}

/** The entry point that plugs in `connect()`'s transport for a scheme, if one does. */
export function entryOfScheme(scheme: string): Entry | undefined {
  for (const [entry, { schemes }] of Object.entries(ENTRIES)) {
    if ((schemes as readonly string[]).includes(scheme)) return entry as Entry;
  }
  return undefined;
}

/** The URL of this copy's file of an entry point. */
export function entryUrl(entry: Entry): URL {
  return new URL(`../${ENTRIES[entry].file}`, import.meta.url);
}
