/**
 * `switchboard call` on a streamed result: one NDJSON line per item as it arrives, and
 * Ctrl-C cancels the stream at the server (the handler's `ctx.signal` aborts) before the
 * command exits.
 *
 * @module
 */

import { taggingReplacer } from "../core/idl/tagged.ts";
import type { RpcStream } from "../core/idl/types.ts";

/** Whether a call's result is a stream being read (not a whole value). */
export function isLiveStream(value: unknown): value is RpcStream<unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    typeof (value as RpcStream<unknown>)[Symbol.asyncIterator] === "function" &&
    typeof (value as RpcStream<unknown>).cancel === "function";
}

/** Prints each item as one JSON line; resolves once the stream ends or Ctrl-C stops it. */
export async function printStream(
  stream: RpcStream<unknown>,
  write: (line: string) => void = (line) => console.log(line),
): Promise<void> {
  let interrupted = false;
  const onInt = () => {
    interrupted = true;
    void stream.cancel();
  };
  Deno.addSignalListener("SIGINT", onInt);
  try {
    for await (const item of stream) {
      write(JSON.stringify(item ?? null, taggingReplacer));
      if (interrupted) break;
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
  }
}
