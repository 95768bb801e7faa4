/**
 * Shared CLI plumbing: strict option parsing with one-line errors, and host:port flags.
 *
 * @module
 */

import { FlagError, type FlagSpec, type ParsedFlags, parseFlags } from "./flags.ts";

/** A usage mistake: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parses a command's arguments strictly; unknown flags become a UsageError. */
export function parseCommand<O extends Record<string, FlagSpec>>(
  command: string,
  args: string[],
  options: O,
): ParsedFlags<O> {
  try {
    return parseFlags(args, options);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    throw new UsageError(`switchboard ${command}: ${error.message} (see --help)`);
  }
}

/** Parses `host:port`, `:port`, `port` or `off`; undefined for off. */
export function parseHostPort(
  flag: string,
  value: string,
  defaultHost = "127.0.0.1",
): { hostname: string; port: number } | undefined {
  if (value === "off" || value === "none" || value === "false") return undefined;
  const match = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new UsageError(
      `--${flag}: expected host:port, :port, port or off, got ${JSON.stringify(value)}`,
    );
  }
  return { hostname: match[1] || defaultHost, port };
}
