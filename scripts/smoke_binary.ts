#!/usr/bin/env -S deno run --allow-all
/**
 * Smoke test of a `switchboard` executable, run as real processes:
 *
 * ```sh
 * deno run -A scripts/smoke_binary.ts -- dist/switchboard
 * deno run -A scripts/smoke_binary.ts -- deno run -A --no-lock main.ts
 * ```
 *
 * Options before `--`: `--no-version` tolerates a build without `--version` ("unknown
 * command"); `--expect-version V` requires `--version` to print V; `--deadline MS` bounds
 * the whole run (default 240000). Prints `ok - …` / `not ok - …` per check and exits 1 on
 * any failure. Every process it starts (and every deployed child it learns of) is killed
 * by pid before it exits.
 *
 * @module
 */

import { freePorts, killAll, run, Running } from "./smoke/processes.ts";
import { checkDeployment } from "./smoke/deployment.ts";
import { checkComponents } from "./smoke/loading.ts";
import { smokeKit } from "./smoke/kit.ts";

interface Options {
  program: string[];
  version: "required" | "optional";
  expectVersion?: string;
  deadline: number;
}

function parseOptions(args: string[]): Options {
  const split = args.indexOf("--");
  const own = split < 0 ? [] : args.slice(0, split);
  const program = split < 0 ? args : args.slice(split + 1);
  const options: Options = { program, version: "required", deadline: 240_000 };
  for (let i = 0; i < own.length; i++) {
    if (own[i] === "--no-version") options.version = "optional";
    else if (own[i] === "--expect-version" && own[i + 1]) options.expectVersion = own[++i];
    else if (own[i] === "--deadline" && Number(own[i + 1]) > 0) options.deadline = +own[++i];
    else usage(`unknown option ${own[i]}`);
  }
  if (!program.length) usage("no command given");
  // A path to the binary becomes absolute (native separators on Windows), so every process
  // started here finds it whatever its working directory.
  if (/[\\/]/.test(program[0])) {
    try {
      program[0] = Deno.realPathSync(program[0]);
    } catch {
      // left as given: the first check reports that it cannot be started
    }
  }
  return options;
}

function usage(problem: string): never {
  console.error(
    `smoke_binary: ${problem}\nusage: deno run -A scripts/smoke_binary.ts ` +
      `[--no-version] [--expect-version V] [--deadline MS] -- COMMAND...`,
  );
  Deno.exit(2);
}

const options = parseOptions(Deno.args);
const program = options.program;
const kit = smokeKit(program);
const { check, call, expectEqual } = kit;

async function checkCli(): Promise<void> {
  await check("--version prints a version", async () => {
    const out = await run(program, ["--version"]);
    if (out.code !== 0 && options.version === "optional" && /unknown command/.test(out.stderr)) {
      return "not supported by this build; tolerated by --no-version";
    }
    const text = `${out.stdout}\n${out.stderr}`.trim();
    if (out.code !== 0) throw new Error(`exit ${out.code}: ${text}`);
    const version = /^switchboard v?(\d+\.\d+\.\d+\S*)/m.exec(text)?.[1];
    if (!version) throw new Error(`no version number in: ${text}`);
    if (options.expectVersion && version !== options.expectVersion) {
      throw new Error(`version ${version}, expected ${options.expectVersion}: ${text}`);
    }
    return text.split("\n")[0];
  });
  await check("--help prints the usage and exits 0", async () => {
    const out = await run(program, ["--help"]);
    if (out.code !== 0 || !out.stdout.includes("Usage: switchboard")) {
      throw new Error(`exit ${out.code}: ${out.stdout}${out.stderr}`);
    }
  });
  await check("an unknown command exits 2 with one line", async () => {
    const out = await run(program, ["no-such-command"]);
    if (out.code !== 2 || !/unknown command "no-such-command"/.test(out.stderr)) {
      throw new Error(`exit ${out.code}: ${out.stdout}${out.stderr}`);
    }
  });
}

async function checkDemo(): Promise<void> {
  const [httpPort, tcpPort] = freePorts(2);
  const http = `http://127.0.0.1:${httpPort}`;
  const tcp = `tcp://127.0.0.1:${tcpPort}`;
  const server = new Running(program, [
    "serve",
    "--http",
    `127.0.0.1:${httpPort}`,
    "--tcp",
    `127.0.0.1:${tcpPort}`,
  ]);
  const up = await check("serve (the demo) listens where asked and says so", async () => {
    const said = (l: string) => /^listening on (\S+)/.exec(l)?.[1];
    await server.waitFor("serving line", (l) => l.startsWith("serving ") || undefined, 30_000);
    const urls = server.lines.map(said).filter(Boolean);
    expectEqual("listening on", urls, [http, tcp]);
  });
  if (up) {
    await check("call over HTTP JSON-RPC", async () => {
      expectEqual("Calculator.add", await call([http, "Calculator.add", '{"a":2,"b":3}']), 5);
    });
    await check("call over HTTP XML-RPC (--protocol xmlrpc)", async () => {
      const result = await call(["--protocol", "xmlrpc", http, "Calculator.add", "[20,22]"]);
      expectEqual("Calculator.add", result, 42);
    });
    await check("call over TCP msgpack-rpc", async () => {
      const result = await call([tcp, "Echo.echo", '{"text":"smoke \\u2713"}']);
      expectEqual("Echo.echo", result, "smoke \u2713");
    });
    await check("a remote error: exit 1 with its name and code", async () => {
      const out = await run(program, ["call", tcp, "Calculator.divide", '{"a":1,"b":0}']);
      if (
        out.code !== 1 ||
        !/^error: DivisionByZero \(-?\d+\): cannot divide 1 by zero/m.test(out.stderr)
      ) {
        throw new Error(`exit ${out.code}: ${out.stdout}${out.stderr}`);
      }
    });
    await check("describe lists the demo's interfaces", async () => {
      const out = await run(program, ["describe", http]);
      if (out.code !== 0 || !/^Calculator$/m.test(out.stdout) || !/^Echo$/m.test(out.stdout)) {
        throw new Error(`exit ${out.code}: ${out.stdout}${out.stderr}`);
      }
    });
  }
  await check("serve stops on SIGTERM", async () => {
    const code = await server.stop();
    if (Running.gracefulStop && code !== 0) throw new Error(`exit ${code}\n${server.tail()}`);
    if (!Running.gracefulStop) return "SIGTERM is a hard kill on Windows";
  });
}

const deadline = setTimeout(() => {
  console.log(`not ok - the smoke test finished within ${options.deadline} ms`);
  killAll();
  Deno.exit(1);
}, options.deadline);
const parts: [string, () => Promise<void>][] = [
  ["the command line", checkCli],
  ["the demo server", checkDemo],
  ["components", () => checkComponents(kit)],
  ["a deployment", () => checkDeployment(kit)],
];
try {
  for (const [name, part] of parts) {
    // A part that cannot go on (the command does not start, say) is one more failure.
    await part().catch((error) =>
      check(`${name}: the remaining checks ran`, () => Promise.reject(error))
    );
  }
} finally {
  clearTimeout(deadline);
  killAll();
}
const { passed, failed } = kit.counts;
console.log(`# ${passed} ok, ${failed} not ok: ${program.join(" ")}`);
Deno.exit(failed ? 1 : 0);
