/**
 * Reading HTTP requests defensively: the media type, and the body with a size bound
 * enforced while it streams in (a client can lie about, or omit, `content-length`) and a
 * distinct error when its framing is broken. Runtime-free; the HTTP server and its
 * authenticator both read requests this way.
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

/**
 * A request body that could not be read: the client broke HTTP's framing (a malformed
 * chunk, a connection closed mid-body). The client's fault, answered 400, not a server error.
 */
export class BodyReadError extends Error {
  override name = "BodyReadError";
  /** `cause`: what reading the body threw. */
  constructor(cause: unknown) {
    super(`the request body could not be read: ${firstLine(cause)}`);
  }
}

/** The first line of what an error says (a log line stays one line, with no stack). */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const end = text.indexOf("\n");
  return end < 0 ? text : text.slice(0, end);
}

/**
 * Reads a body up to `limit` bytes as UTF-8; `undefined` when it is larger. A body that
 * cannot be read rejects with a {@linkcode BodyReadError}.
 */
export async function readLimited(request: Request, limit: number): Promise<string | undefined> {
  try {
    return await readUpTo(request, limit);
  } catch (error) {
    throw error instanceof BodyReadError ? error : new BodyReadError(error);
  }
}

async function readUpTo(request: Request, limit: number): Promise<string | undefined> {
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
