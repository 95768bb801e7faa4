import assert from "node:assert/strict";
import { ComponentArgsError, parseComponentArgs } from "../../src/cli/component_args.ts";

Deno.test("component options apply to the --component they follow", () => {
  const { specs, rest } = parseComponentArgs([
    "--http",
    "127.0.0.1:0",
    "--component",
    "./calc.ts",
    "--component=https://example.com/search.ts#sha256-abc",
    "--isolate",
    "worker",
    "--allow-net=db:5432,cache:6379",
    "--allow-read",
    "--deadline",
    "500",
    "--debug",
    "--component",
    "./web.ts",
    "--loader=bundled",
    "--load-timeout",
    "2000",
  ]);
  assert.deepEqual(specs, [
    { url: "./calc.ts" },
    {
      url: "https://example.com/search.ts#sha256-abc",
      isolate: "worker",
      permissions: { net: ["db:5432", "cache:6379"], read: true },
      deadline: 500,
    },
    { url: "./web.ts", loader: "bundled", loadTimeout: 2000 },
  ]);
  assert.deepEqual(rest, ["--http", "127.0.0.1:0", "--debug"]);
});

Deno.test("options before any --component are defaults for all", () => {
  const { specs } = parseComponentArgs([
    "--isolate=worker",
    "--allow-insecure-http",
    "--allow-env=HOME",
    "--component",
    "a.ts",
    "--component",
    "b.ts",
    "--allow-env=PATH",
  ]);
  assert.deepEqual(specs, [
    { url: "a.ts", isolate: "worker", allowInsecureHttp: true, permissions: { env: ["HOME"] } },
    { url: "b.ts", isolate: "worker", allowInsecureHttp: true, permissions: { env: ["PATH"] } },
  ]);
});

Deno.test("mistakes are refused with a message that says what to do", () => {
  const cases: [string[], RegExp][] = [
    [
      ["--component", "a.ts", "--allow-net"],
      /--allow-net applies to worker components only; add --isolate worker after --component a\.ts/,
    ],
    [["--component", "a.ts", "--deadline", "10"], /--deadline applies to worker components only/],
    [
      ["--component", "a.ts", "--isolate", "thread"],
      /--isolate: expected inline, worker or process, got thread/,
    ],
    [
      ["--component", "a.ts", "--max-memory", "64"],
      /--max-memory applies to process components only; add --isolate process/,
    ],
    [
      ["--component", "a.ts", "--isolate", "worker", "--max-memory", "64"],
      /a Web Worker's heap cannot be bounded .*use --isolate process/,
    ],
    [
      ["--component", "a.ts", "--isolate", "process", "--max-memory", "8"],
      /--max-memory: expected a number of MiB \(at least 16\)/,
    ],
    [["--component", "a.ts", "--loader", "fast"], /--loader: expected auto, native or bundled/],
    [["--component"], /--component needs a value/],
    [["--component", "a.ts", "--deadline", "soon"], /--deadline: expected a positive number/],
    [["--isolate", "worker"], /component options given without any --component/],
    [["--component", "a.ts", "--load-timeout", "0"], /--load-timeout: expected a positive/],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseComponentArgs(args), (error: Error) => {
      assert.ok(error instanceof ComponentArgsError, `${args.join(" ")}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
});

Deno.test("unknown --allow-* flags are left for the command's own parser", () => {
  const { specs, rest } = parseComponentArgs(["--component", "a.ts", "--allow-everything"]);
  assert.deepEqual(specs, [{ url: "a.ts" }]);
  assert.deepEqual(rest, ["--allow-everything"]);
});
