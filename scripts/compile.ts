#!/usr/bin/env -S deno run --allow-all
/**
 * `deno task compile`: builds the single `switchboard` binary (dist/switchboard) with
 * `deno compile`. Extra arguments are passed on (e.g. `--target aarch64-apple-darwin`,
 * `--output path`).
 *
 * `deno compile` needs the Deno runtime without its toolchain ("denort"): it downloads it
 * from the Deno release site, or takes the file named by DENORT_BIN. Where neither works,
 * this says so in one line and exits non-zero.
 *
 * @module
 */

import { lazyModules } from "./lazy_modules.ts";

const ROOT = new URL("../", import.meta.url);

// `deno task compile -- --target …` hands the script a leading "--"; deno compile would take
// everything after it as arguments of the program.
const args = Deno.args[0] === "--" ? Deno.args.slice(1) : [...Deno.args];
const hasOutput = args.some((a) => a === "--output" || a === "-o" || a.startsWith("--output="));
const target = args.find((_, i) => args[i - 1] === "--target") ??
  args.find((a) => a.startsWith("--target="))?.slice("--target=".length) ?? Deno.build.target;

function fail(message: string): never {
  console.error(`switchboard compile: ${message}`);
  Deno.exit(1);
}

const denort = Deno.env.get("DENORT_BIN");
if (denort !== undefined) {
  const info = await Deno.stat(denort).catch(() => undefined);
  if (!info?.isFile) {
    fail(
      `DENORT_BIN=${denort} is not a file; point it at the denort binary of Deno ${Deno.version.deno} for ${target}`,
    );
  }
}

const command = new Deno.Command(Deno.execPath(), {
  cwd: ROOT,
  args: [
    "compile",
    "--allow-all",
    // Worker components get their own permissions, an unstable Worker option.
    "--unstable-worker-options",
    // `serve --workers N` shares its ports among worker isolates (reusePort).
    "--unstable-net",
    // A caller that hangs up cancels its HTTP call (request.signal), without Deno's warning.
    "--unstable-no-legacy-abort",
    // Workers are started from a URL computed at run time: embed their entry point.
    "--include",
    "src/host/isolate/worker_entry.ts",
    "--include",
    "src/cli/serve_worker_entry.ts",
    // What dynamic imports name (each command, transport, …): deno.json's lazy-dynamic-imports
    // keeps deno compile from following them.
    ...(await lazyModules()).flatMap((path) => ["--include", path]),
    ...(hasOutput ? [] : ["--output", "dist/switchboard"]),
    ...args,
    "main.ts",
  ],
  stdout: "inherit",
  stderr: "piped",
  env: { NO_COLOR: "1" },
});
const { code, stderr } = await command.output();
const text = new TextDecoder().decode(stderr);
if (code === 0) {
  await Deno.stderr.write(stderr);
  Deno.exit(0);
}
if (/denort|Setting up base binary|dl\.deno\.land/i.test(text)) {
  const chain = text.split("Caused by:")[1]?.split("Stack backtrace:")[0] ?? "";
  const causes = chain.split("\n").map((l) => /^\s*\d+: (.*)$/.exec(l)?.[1]).filter(Boolean);
  const url = /https:\/\/dl\.deno\.land\/\S+\.zip/.exec(text)?.[0];
  const cause = causes.at(-1) ?? "unknown reason";
  fail(
    `cannot obtain the Deno runtime (denort) for ${target}: ${
      url ? `downloading ${url} failed (${cause})` : cause
    }. Set DENORT_BIN to denort ${Deno.version.deno} for ${target} (denort-${target}.zip ` +
      `from the Deno release) and run again`,
  );
}
await Deno.stderr.write(stderr);
Deno.exit(code);
