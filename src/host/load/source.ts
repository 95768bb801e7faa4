/**
 * Reading one module's bytes from file:, https: (or allowed http:) URLs, with the media
 * type the compile-safe loader needs to decide how to turn it into JavaScript.
 *
 * @module
 */

import { checkScheme, ComponentError, splitPin, verifyPin } from "./specifier.ts";
import { readModuleFile, readModuleResponse } from "./module_bytes.ts";

/** How a module's source is to be treated. */
export type MediaType = "typescript" | "javascript" | "json" | "jsx";

/** One fetched module. */
export interface ModuleSource {
  /** Where it was finally read from (after redirects, without pin). */
  url: URL;
  /** The raw bytes. */
  bytes: Uint8Array;
  /** How to compile it. */
  mediaType: MediaType;
}

/** Options of {@linkcode readModule}. */
export interface ReadOptions {
  /** Allow plain http: URLs (tests, trusted local networks). */
  allowInsecureHttp?: boolean;
}

/** Reads a module, checking its scheme and its integrity pin (if the URL carries one). */
export async function readModule(pinned: URL, options: ReadOptions = {}): Promise<ModuleSource> {
  const { url, sha256 } = splitPin(pinned);
  checkScheme(url, options.allowInsecureHttp ?? false);
  let bytes: Uint8Array;
  let finalUrl = url;
  let contentType = "";
  if (url.protocol === "file:") {
    bytes = await readModuleFile(url);
  } else {
    let response: Response;
    try {
      response = await fetch(url, { redirect: "follow" });
    } catch (error) {
      throw new ComponentError(`cannot fetch ${url.href}: ${message(error)}`, { cause: error });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ComponentError(`cannot fetch ${url.href}: HTTP ${response.status}`);
    }
    bytes = await readModuleResponse(response, url);
    finalUrl = new URL(response.url || url.href);
    // A redirect must not downgrade https to http.
    checkScheme(finalUrl, options.allowInsecureHttp ?? false);
    contentType = response.headers.get("content-type") ?? "";
  }
  if (sha256) await verifyPin(url, bytes, sha256);
  return { url: finalUrl, bytes, mediaType: mediaTypeOf(finalUrl, contentType) };
}

/** The media type by extension first, then by the server's content type. */
export function mediaTypeOf(url: URL, contentType = ""): MediaType {
  const ext = /\.([a-z]+)$/i.exec(url.pathname)?.[1]?.toLowerCase();
  switch (ext) {
    case "ts":
    case "mts":
    case "cts":
      return "typescript";
    case "js":
    case "mjs":
    case "cjs":
      return "javascript";
    case "json":
      return "json";
    case "tsx":
    case "jsx":
      return "jsx";
  }
  if (/json/i.test(contentType)) return "json";
  if (/javascript|ecmascript/i.test(contentType)) return "javascript";
  return "typescript";
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
