/**
 * Shared CLI plumbing: strict option parsing with one-line errors, and host:port flags.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** A usage mistake: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parses a command's arguments strictly; unknown flags become a UsageError. */
export function parseCommand<O extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`switchboard ${command}: ${parseProblem(error)} (see --help)`);
  }
}

/** node:util's parse error, cut to its first sentence (the rest is advice about `--`). */
function parseProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) return `unknown option ${option}`;
  const first = message.split("\n")[0];
  const end = first.indexOf(". ");
  return (end < 0 ? first : first.slice(0, end)).replace(/\.$/, "");
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
