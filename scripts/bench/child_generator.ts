/**
 * Runs a load generator that is a Node script of its own (`peers/msgpack_load.js`,
 * `peers/grpc_load.js`): the cell goes in as one JSON argument; the script announces its
 * measured window on stdout ("window open", "window closed"), then prints its result as
 * one JSON line. The generator's own share of its core in the window goes with the result.
 *
 * @module
 */

import type { CellResult, Timing } from "./load.ts";
import { type Share, startShare } from "./processes.ts";

/** Runs `argv` with `cell` as its last argument; the window lines call `timing.onWindow`. */
export async function runChildGenerator(
  argv: string[],
  cell: Record<string, unknown>,
  timing: Timing,
): Promise<CellResult> {
  const child = new Deno.Command(argv[0], {
    args: [...argv.slice(1), JSON.stringify(cell)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let text = "", last = "";
  let stop: (() => Share | undefined) | undefined, generator: Share | undefined;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    text += chunk;
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (line === "window open") {
        stop = startShare(child.pid);
        timing.onWindow?.(true);
      } else if (line === "window closed") {
        generator = stop?.();
        timing.onWindow?.(false);
      } else if (line.trim()) last = line;
    }
  }
  if (!(await child.status).success) throw new Error(`load generator ${argv.at(-1)} failed`);
  return { ...JSON.parse(last) as CellResult, generator };
}
