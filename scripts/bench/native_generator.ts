/**
 * The native msgpack-rpc load generator (peers/msgpack_load.c), built with the system's C
 * compiler into a temporary file on first use: for the `serve --workers` cells, where the
 * generator shares the cores with the server and Node's would cost about half the server's
 * CPU per call, capping any speed-up below the target.
 *
 * @module
 */

import { PEERS } from "./processes.ts";

let built: Promise<string | undefined> | undefined;

/** The generator's path, or undefined (and why on stderr) when it cannot be built here. */
export function nativeGenerator(): Promise<string | undefined> {
  return built ??= build();
}

async function build(): Promise<string | undefined> {
  const out = await Deno.makeTempFile({ prefix: "switchboard-msgpack-load-" });
  try {
    const { success, stderr } = await new Deno.Command("cc", {
      args: ["-O2", "-o", out, `${PEERS}/msgpack_load.c`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (success) return out;
    console.error(`msgpack_load.c did not build:\n${new TextDecoder().decode(stderr)}`);
  } catch (error) {
    console.error(`no C compiler (cc) for msgpack_load.c: ${(error as Error).message}`);
  }
  await Deno.remove(out).catch(() => {});
  return undefined;
}
