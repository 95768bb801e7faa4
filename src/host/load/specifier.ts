/**
 * Component addresses: CLI arguments to URLs, integrity pins (`URL#sha256-…`), and
 * the names under which components import Switchboard itself.
 *
 * @module
 */

import { ENTRIES, type Entry, entryUrl, type LibraryEntry, PACKAGE } from "../../entries.ts";

/**
 * A component module could not be used; the message names the URL and what to do.
 *
 * @example A module that implements nothing
 * ```ts
 * import assert from "node:assert/strict";
 * import { ComponentError, loadComponent } from "@switchboard/rpc/deploy";
 *
 * const file = await Deno.makeTempFile({ suffix: ".ts" });
 * await Deno.writeTextFile(file, "export const answer = 42;\n");
 * try {
 *   await assert.rejects(loadComponent(file), (error) => {
 *     assert.ok(error instanceof ComponentError);
 *     assert.match(error.message, /exports no implementation \(found only answer\)/);
 *     return true;
 *   });
 * } finally {
 *   await Deno.remove(file);
 * }
 * ```
 */
export class ComponentError extends Error {
  /** Always `ComponentError`. */
  override name = "ComponentError";
}

/** Turns a CLI argument (URL or path) into a module URL. */
export function componentUrl(spec: string | URL, base: string | URL = cwdUrl()): URL {
  if (spec instanceof URL) return new URL(spec.href);
  if (/^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec)) return new URL(spec);
  return new URL(spec, base);
}

function cwdUrl(): string {
  const cwd = Deno.cwd().replaceAll("\\", "/");
  return `file://${cwd.startsWith("/") ? "" : "/"}${cwd}/`;
}

/** A module URL split from its optional integrity pin. */
export interface PinnedUrl {
  /** The URL without the pin. */
  url: URL;
  /** The expected SHA-256 of the module's bytes, as lowercase hex, if pinned. */
  sha256?: string;
}

const PIN = /^#sha256-([A-Za-z0-9+/_-]+={0,2})$/;

/**
 * Splits `URL#sha256-<base64 or hex>` into the URL and the expected digest. Any other
 * fragment is left on the URL.
 */
export function splitPin(url: URL): PinnedUrl {
  const match = PIN.exec(url.hash);
  if (!match) return { url };
  const bare = new URL(url.href);
  bare.hash = "";
  const digest = match[1];
  let hex: string;
  if (/^[0-9a-f]{64}$/i.test(digest)) {
    hex = digest.toLowerCase();
  } else {
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(
        atob(digest.replaceAll("-", "+").replaceAll("_", "/")),
        (c) => c.charCodeAt(0),
      );
    } catch {
      throw new ComponentError(`${url.href}: the integrity pin is not base64 or hex`);
    }
    if (bytes.length !== 32) {
      throw new ComponentError(`${url.href}: a sha256 pin is 32 bytes (44 base64 or 64 hex)`);
    }
    hex = toHex(bytes);
  }
  return { url: bare, sha256: hex };
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Checks bytes against a pinned SHA-256; throws a ComponentError naming the URL. */
export async function verifyPin(url: URL, bytes: Uint8Array, sha256: string): Promise<void> {
  const actual = toHex(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
  );
  if (actual !== sha256) {
    throw new ComponentError(
      `${url.href} does not match its integrity pin: expected sha256 ${sha256}, got ${actual}; ` +
        `refusing to run it`,
    );
  }
}

/** Refuses schemes a component may not come from (http: unless allowed). */
export function checkScheme(url: URL, allowInsecureHttp: boolean): void {
  if (url.protocol === "http:" && !allowInsecureHttp) {
    throw new ComponentError(
      `refusing to load ${url.href} over insecure http: use https:, or pass ` +
        `--allow-insecure-http (allowInsecureHttp) to allow it`,
    );
  }
  if (!["file:", "https:", "http:", "data:"].includes(url.protocol)) {
    throw new ComponentError(
      `cannot load ${url.href}: components come from file:, https: (or http: when allowed) ` +
        `and data: URLs`,
    );
  }
}

const NAME = PACKAGE.replace("/", "\\/");
const JSR_NAME = new RegExp(`^(?:jsr:\\/?)?${NAME}(?:@[^/]*)?(\\/.*)?$`);
const JSR_URL = new RegExp(`^https:\\/\\/jsr\\.io\\/${NAME}\\/[^/]+(\\/.*)?$`);

/** The entry points a component may import, with the jsr subpaths and file URLs naming each. */
const LIBRARY = (Object.keys(ENTRIES) as Entry[])
  .filter((entry): entry is LibraryEntry => entry !== "./cli")
  .map((entry) => ({
    entry,
    subpaths: [entry === "." ? "/" : entry.slice(1), "/" + ENTRIES[entry].file],
    url: entryUrl(entry).href,
  }));

/**
 * Whether a specifier names Switchboard itself: `@switchboard/rpc` or one of its subpaths,
 * `jsr:` (any version), its jsr.io URL, or this copy's file of an entry point. Returns the
 * entry point named, or only the `subpath` for a jsr form that names no entry point a
 * component may import (one of its files, or the CLI).
 */
export function switchboardImport(
  specifier: string,
  resolved: URL | undefined,
): { entry: LibraryEntry } | { subpath: string } | undefined {
  const match = JSR_NAME.exec(specifier) ?? JSR_URL.exec(specifier);
  if (match) {
    const subpath = match[1] ?? "/";
    const named = LIBRARY.find((e) => e.subpaths.includes(subpath));
    return named ? { entry: named.entry } : { subpath };
  }
  const own = resolved && LIBRARY.find((e) => e.url === resolved.href);
  return own ? { entry: own.entry } : undefined;
}
