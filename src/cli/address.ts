/**
 * Addresses as people type them: a server URL given without its scheme, and a listener
 * address that another process already holds.
 *
 * @module
 */

import { UsageError } from "./args.ts";

/** `host:port` or `host:port/path`, with no scheme: what people paste from a log line. */
const SCHEMELESS = /^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}(?:\/.*)?$/i;

/**
 * Checks a server URL given to `call`/`describe`; a URL without a scheme (`127.0.0.1:8080`,
 * which `new URL` rejects or reads as scheme `localhost:`) is a UsageError saying what to add.
 */
export function serverUrl(command: string, text: string): string {
  if (SCHEMELESS.test(text)) {
    throw new UsageError(
      `switchboard ${command}: ${text} has no scheme; add http:// (http://${text}) for ` +
        `JSON-RPC and XML-RPC, or tcp:// for msgpack-rpc`,
    );
  }
  try {
    new URL(text);
  } catch {
    throw new UsageError(
      `switchboard ${command}: ${JSON.stringify(text)} is not a URL (e.g. http://127.0.0.1:8080)`,
    );
  }
  return text;
}

/** A listener could not be opened; the message is one line for the person who ran it. */
export class ListenError extends Error {
  override name = "ListenError";
}

/**
 * Runs `listen` and turns "address in use" into a {@linkcode ListenError} naming the
 * address and the flag that chose it (`127.0.0.1:8081 is already in use (--tcp)`).
 */
export async function listenOn<T>(
  flag: string,
  address: { hostname: string; port: number },
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
      throw new ListenError(`${host}:${address.port} is already in use (--${flag})`);
    }
    throw error;
  }
}
