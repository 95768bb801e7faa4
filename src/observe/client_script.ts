/**
 * `GET /client.js`: the "." entry point bundled for browsers, so a page (the explorer, or
 * one of another origin allowed by CORS) can `import { connect } from ".../client.js"`.
 *
 * The bundle is a generated string module (see scripts/bundle_client.ts), loaded on the
 * first request: servers that never serve it do not hold it, and a compiled binary, which
 * cannot run `deno bundle`, serves it too.
 *
 * @module
 */

let body: Promise<{ script: string; etag: string }> | undefined;

async function load(): Promise<{ script: string; etag: string }> {
  const { CLIENT_BUNDLE } = await import("./client_bundle.ts");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(CLIENT_BUNDLE));
  const hex = [...new Uint8Array(digest).subarray(0, 12)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return { script: CLIENT_BUNDLE, etag: `"${hex}"` };
}

/** The bundled client as a JavaScript response (304 when the caller holds this version). */
export async function clientScriptResponse(request?: Request): Promise<Response> {
  const { script, etag } = await (body ??= load());
  const headers = {
    "content-type": "text/javascript; charset=utf-8",
    "cache-control": "no-cache",
    etag,
    "x-content-type-options": "nosniff",
  };
  if (request?.headers.get("if-none-match") === etag) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(script, { headers });
}
