/**
 * Reading HTTP requests defensively: the media type, and the body with a size bound
 * enforced while it streams in (a client can lie about, or omit, `content-length`).
 * Runtime-free; the HTTP server and its authenticator both read requests this way.
 *
 * @module
 */

/** The request's media type, lower-cased, without parameters (`""` when absent). */
export function mediaType(request: Request): string {
  const raw = request.headers.get("content-type");
  if (raw === null) return "";
  // The common exact forms need no splitting, trimming or lower-casing.
  if (raw === "application/json" || raw === "text/xml") return raw;
  return raw.split(";")[0].trim().toLowerCase();
}

/** Reads a body up to `limit` bytes as UTF-8; `undefined` when it is larger. */
export async function readLimited(request: Request, limit: number): Promise<string | undefined> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > limit) return undefined;
    return await request.text();
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}
