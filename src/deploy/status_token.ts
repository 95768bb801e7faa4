/**
 * The token that opens a deployment's `GET /status` (it lists pids and the internal
 * routing table). Fresh per run, it is written to a file only the operator's user can
 * read — `$XDG_RUNTIME_DIR/switchboard/` or `$TMPDIR/switchboard-UID/`, a directory of
 * mode 0700 — and `deploy --status` reads it from there. It never appears in argv, the
 * environment or the logs.
 *
 * @module
 */

import { randomToken } from "../core/random_token.ts";

/** A status address. */
export interface StatusAddress {
  /** Bind host. */
  hostname: string;
  /** Bind port. */
  port: number;
}

/** The directory of status tokens, created (mode 0700) and checked to be this user's own. */
async function tokenDir(): Promise<string> {
  const runtime = Deno.env.get("XDG_RUNTIME_DIR");
  const uid = Deno.uid();
  const dir = runtime
    ? `${runtime}/switchboard`
    : `${Deno.env.get("TMPDIR") ?? "/tmp"}/switchboard-${uid ?? "user"}`;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await Deno.lstat(dir);
  // In a shared /tmp another user could have made the directory first.
  if (
    !info.isDirectory || (uid !== null && info.uid !== uid) ||
    (info.mode !== null && (info.mode & 0o077) !== 0)
  ) {
    throw new Error(
      `${dir} is not a private directory of this user (mode 0700); remove it or set XDG_RUNTIME_DIR`,
    );
  }
  return dir;
}

/** Where the token of the status endpoint at `address` is kept. */
export async function statusTokenPath(address: StatusAddress): Promise<string> {
  const host = address.hostname.replace(/[^A-Za-z0-9.-]/g, "_");
  return `${await tokenDir()}/status-${host}-${address.port}.token`;
}

/** Makes a fresh token and writes it (mode 0600); `remove` deletes the file again. */
export async function writeStatusToken(
  address: StatusAddress,
): Promise<{ token: string; path: string; remove(): Promise<void> }> {
  const token = randomToken();
  const path = await statusTokenPath(address);
  await Deno.remove(path).catch(() => {});
  await Deno.writeTextFile(path, `${token}\n`, { createNew: true, mode: 0o600 });
  return { token, path, remove: () => Deno.remove(path).catch(() => {}) };
}

/** The token of the status endpoint at `address`, or undefined when no file holds one. */
export async function readStatusToken(address: StatusAddress): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(await statusTokenPath(address))).trim() || undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
