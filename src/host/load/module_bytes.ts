/**
 * Reading a component module's bytes within bounds: only a regular file (never a device,
 * a pipe or a socket, which may never end), at most {@linkcode MAX_MODULE_BYTES} from a
 * file or a server however long it claims or turns out to be; and error texts free of the
 * module's own text (a file that is not a module, say `/proc/self/environ`, must not be
 * echoed into the log by the parser's code frame).
 *
 * @module
 */

import { ComponentError } from "./specifier.ts";

/** The largest component module (one file of its graph) the host or a worker reads. */
export const MAX_MODULE_BYTES = 64 * 1024 * 1024;

/**
 * Refuses a `file:` module that is not a regular file of at most
 * {@linkcode MAX_MODULE_BYTES} (checked before anything opens it: opening a pipe blocks).
 */
export async function checkModuleFile(url: URL): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(url);
  } catch (error) {
    throw new ComponentError(`cannot read ${url.href}: ${message(error)}`, { cause: error });
  }
  if (!info.isFile) {
    throw new ComponentError(`cannot read ${url.href}: it is not a regular file`);
  }
  if (info.size > MAX_MODULE_BYTES) throw tooLarge(url);
}

/**
 * Refuses a `file:` module that exists but is not a regular file within the bounds; one
 * that cannot be read is left to the import that follows, which says why as it always has.
 */
export async function refuseNonModuleFile(url: URL): Promise<void> {
  try {
    await Deno.stat(url);
  } catch {
    return;
  }
  await checkModuleFile(url);
}

/** Reads a `file:` module within the bounds. */
export async function readModuleFile(url: URL): Promise<Uint8Array> {
  await checkModuleFile(url);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(url);
  } catch (error) {
    throw new ComponentError(`cannot read ${url.href}: ${message(error)}`, { cause: error });
  }
  // A file's size may be 0 and its content not (`/proc`): the read is bounded, not the stat.
  return await readBounded(file.readable, url);
}

/** Reads a response body within the bounds, refusing a longer claim before reading. */
export async function readModuleResponse(response: Response, url: URL): Promise<Uint8Array> {
  const claimed = Number(response.headers.get("content-length") ?? 0);
  if (claimed > MAX_MODULE_BYTES) {
    await response.body?.cancel();
    throw tooLarge(url);
  }
  return response.body ? await readBounded(response.body, url) : new Uint8Array();
}

async function readBounded(stream: ReadableStream<Uint8Array>, url: URL): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_MODULE_BYTES) {
        await reader.cancel();
        throw tooLarge(url);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ComponentError) throw error;
    throw new ComponentError(`cannot read ${url.href}: ${message(error)}`, { cause: error });
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * An error's text without the module's own text: parsers quote the offending line in a
 * code frame (`1 | …`, `  |   ~`) and JSON.parse quotes what it read; the position
 * (`at file:///…:1:19`) stays, which is where to look.
 */
export function withoutSourceText(text: string): string {
  return text
    .split("\n")
    .filter((line) => !/^\s*\d*\s*\|/.test(line))
    .join("\n")
    .replace(/(Unexpected token '.*?', )?".*?"(\.\.\.)? is not valid JSON/s, "not valid JSON")
    .replace(/Unexpected character '.*?'/g, "Unexpected character")
    .replace(/\n{2,}/g, "\n")
    .trimEnd();
}

function tooLarge(url: URL): ComponentError {
  return new ComponentError(
    `cannot read ${url.href}: it is larger than ${MAX_MODULE_BYTES} bytes (a component module ` +
      `should be far smaller; is this the file you meant?)`,
  );
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
