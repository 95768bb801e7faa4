#!/usr/bin/env -S deno run --allow-all --unstable-lazy-dynamic-imports --unstable-no-legacy-abort
/**
 * The `switchboard` command line: serve components, call and describe servers.
 *
 * @module
 */

import { UsageError } from "./src/cli/args.ts";
// The version users see is the published one: deno.json ships in the package.
import denoJson from "./deno.json" with { type: "json" };

/** This copy's version, as published (`deno.json`). */
export const VERSION: string = denoJson.version;

const HELP = `Usage: switchboard <command> [options]

Commands:
  serve      serve components (the built-in demo by default)
  call       call a method on a server: switchboard call URL METHOD [PARAMS_JSON]
  describe   list a server's interfaces and methods: switchboard describe URL
  deploy     run a deployment file's processes: switchboard deploy FILE (--check, --status)

Options:
  -V, --version  print the version

Run "switchboard <command> --help" for a command's options.
`;

type Command = (args: string[]) => Promise<number>;

/**
 * Imports, after a command that loads components, the `./deploy` entry: it provides them
 * this copy of every entry point (what they get when they import Switchboard). One after the
 * other: two imports at once each walk the shared graph (8% more instructions for `serve`).
 */
async function withLibrary<T>(command: Promise<T>): Promise<T> {
  const module = await command;
  await import("./deploy.ts");
  return module;
}

// Each command's modules load only when it runs (deno.json's `lazy-dynamic-imports` keeps
// `deno run` from loading these graphs at start): `call` starts without the server stack.
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await withLibrary(import("./src/cli/serve.ts"))).serveCommand,
  call: async () => (await import("./src/cli/call.ts")).callCommand,
  describe: async () => (await import("./src/cli/call.ts")).describeCommand,
  deploy: async () => (await withLibrary(import("./src/cli/deploy.ts"))).deployCommand,
};

/**
 * Runs the CLI with the given arguments; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "@switchboard/rpc/cli";
 *
 * assert.equal(await main(["--version"]), 0);
 * assert.equal(await main(["no-such-command"]), 2); // a usage error
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-V") {
    console.log(`switchboard ${VERSION}`);
    return 0;
  }
  const load = Object.hasOwn(commands, command) ? commands[command] : undefined;
  try {
    if (!load) {
      throw new UsageError(`switchboard: unknown command ${JSON.stringify(command)} (see --help)`);
    }
    return await (await load())(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    console.error(`switchboard ${command}: ${error instanceof Error ? error.message : error}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
