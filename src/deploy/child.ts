/**
 * A supervised child process as the supervisor's users see it — what to run, where it is in
 * its life, its status — and how its output is read (line by line).
 *
 * @module
 */

/** A child to run. */
export interface ChildSpec {
  /** Its name (log prefix, status). */
  name: string;
  /** The executable. */
  command: string;
  /** Its arguments. */
  args: string[];
  /** Extra environment variables (added to the supervisor's own). Never secrets. */
  env?: Record<string, string>;
  /**
   * Written on the child's stdin at start (secrets go here, not in env or args); the pipe
   * then stays open until the child exits, so the child sees end-of-file when the
   * supervisor dies, however it dies.
   */
  stdin?: string;
}

/** Where a child is in its life. */
export type ChildState =
  | "starting"
  | "running"
  | "unresponsive"
  | "backoff"
  | "stopping"
  | "stopped"
  | "failed";

/** One child as `status()` reports it. */
export interface ChildStatus {
  /** Its name. */
  name: string;
  /** Its state. */
  state: ChildState;
  /** Its pid while it runs. */
  pid?: number;
  /** How many times it was restarted. */
  restarts: number;
  /** Milliseconds since its current run started (0 when not running). */
  uptime: number;
  /** While `unresponsive`: since when (ISO 8601) its supervisor's ping is unanswered. */
  unresponsiveSince?: string;
  /** How its last run ended, if it did. */
  lastExit?: { code: number; signal: string | null };
}

/**
 * Splits a byte stream into text lines (the last one without its newline, if any), each
 * without its `\r\n` or `\n`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lines } from "./child.ts";
 *
 * const bytes = new Blob(["one\r\ntwo\nthr", "ee"]).stream();
 * assert.deepEqual(await Array.fromAsync(lines(bytes)), ["one", "two", "three"]);
 * ```
 */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const line of parts) yield line.endsWith("\r") ? line.slice(0, -1) : line;
  }
  if (rest) yield rest;
}
