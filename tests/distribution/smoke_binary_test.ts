/**
 * Runs scripts/smoke_binary.ts as a user would: against `deno run -A main.ts` always (so
 * the smoke script itself is tested here), against a CLI with a known fault (so its
 * failures are shown to be failures), and against a compiled binary when DENORT_BIN names
 * the Deno runtime `deno compile` needs.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const SMOKE = new URL("scripts/smoke_binary.ts", ROOT).pathname;
const DENO = Deno.execPath();
const { version } = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
// --version is checked against deno.json; "--no-version" tolerates a main.ts without it
// (drop it once main.ts answers --version).
const VERSION_OPTIONAL = ["--no-version", "--expect-version", version];

/** Runs the smoke script (bounded); returns its exit code and the lines it printed. */
async function smoke(options: string[], program: string[]) {
  const output = await new Deno.Command(DENO, {
    args: ["run", "-A", SMOKE, "--deadline", "180000", ...options, "--", ...program],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    signal: AbortSignal.timeout(210_000),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  return { code: output.code, lines: stdout.split("\n"), text: `${stdout}\n${stderr}` };
}

const oks = (lines: string[]) => lines.filter((l) => l.startsWith("ok - "));
const notOks = (lines: string[]) => lines.filter((l) => l.startsWith("not ok - "));

/** The checks every healthy build passes (names as printed, without notes). */
const EXPECTED = [
  "--version prints a version",
  "--help prints the usage and exits 0",
  "an unknown command exits 2 with one line",
  "serve (the demo) listens where asked and says so",
  "call over HTTP JSON-RPC",
  "call over HTTP XML-RPC (--protocol xmlrpc)",
  "call over TCP msgpack-rpc",
  "a remote error: exit 1 with its name and code",
  "describe lists the demo's interfaces",
  "serve stops on SIGTERM",
  "serve loads components (file:, http:, a worker)",
  "a component by file: URL",
  "a component by http: URL (--allow-insecure-http), with a relative import",
  "a worker component reads what it was granted",
  "a worker component is refused what it was not granted",
  "an http: component without --allow-insecure-http is refused at start",
  "deploy --check accepts a two-process deployment",
  "deploy starts both processes",
  "calls through the front reach both processes",
  "a child killed with SIGKILL is restarted",
  "calls work again through the front after the restart",
  "deploy stops every process on SIGTERM",
];
const names = (lines: string[]) =>
  lines.map((l) => l.replace(/^(not )?ok - /, "").replace(/ -- .*$/, ""));

Deno.test("smoke: every check passes against deno run -A main.ts", async () => {
  const { code, lines, text } = await smoke(VERSION_OPTIONAL, [
    DENO,
    "run",
    "-A",
    "--no-lock",
    "main.ts",
  ]);
  assert.deepEqual(notOks(lines), [], text);
  assert.deepEqual(names(oks(lines)), EXPECTED, text);
  assert.equal(code, 0, text);
});

Deno.test("smoke: one faulty behaviour is one 'not ok' and exit 1", async () => {
  // This CLI is main.ts answering --version with "switchboard 1.2.3": the wrong version.
  const faulty = [
    DENO,
    "run",
    "-A",
    "--no-lock",
    "tests/distribution/fixtures/fixed_version_cli.ts",
  ];
  const { code, lines, text } = await smoke(["--expect-version", "99.0.0"], faulty);
  assert.deepEqual(names(notOks(lines)), ["--version prints a version"], text);
  assert.match(text, / {2}# version 1\.2\.3, expected 99\.0\.0: switchboard 1\.2\.3/);
  assert.deepEqual(names(oks(lines)), EXPECTED.slice(1), text);
  assert.equal(code, 1, text);
});

Deno.test("smoke: a command that does not start fails every part and exits 1", async () => {
  const { code, lines, text } = await smoke(VERSION_OPTIONAL, ["./no-such-switchboard-binary"]);
  assert.deepEqual(oks(lines), [], text);
  assert.ok(notOks(lines).length >= 4, text);
  assert.equal(code, 1, text);
});

Deno.test("smoke: usage mistakes exit 2", async () => {
  const none = await smoke([], []);
  assert.equal(none.code, 2, none.text);
  assert.match(none.text, /smoke_binary: no command given/);
  const bad = await smoke(["--bogus"], [DENO]);
  assert.equal(bad.code, 2, bad.text);
  assert.match(bad.text, /smoke_binary: unknown option --bogus/);
});

const DENORT = Deno.env.get("DENORT_BIN");
if (!DENORT) {
  // denort (the runtime deno compile embeds) comes from the Deno release site, which the
  // package registries do not carry; the release workflow smoke-tests every real binary.
  console.warn(
    "compiled-binary smoke test skipped: set DENORT_BIN to denort " +
      `${Deno.version.deno} for ${Deno.build.target} (denort-${Deno.build.target}.zip)`,
  );
}

Deno.test({
  name: "smoke: every check passes against the compiled binary",
  ignore: !DENORT,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "switchboard-bin-" });
    try {
      const binary = `${dir}/switchboard${Deno.build.os === "windows" ? ".exe" : ""}`;
      const build = await new Deno.Command(DENO, {
        args: ["task", "compile", "--output", binary],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        signal: AbortSignal.timeout(300_000),
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
      const { code, lines, text } = await smoke(VERSION_OPTIONAL, [binary]);
      assert.deepEqual(notOks(lines), [], text);
      assert.deepEqual(names(oks(lines)), EXPECTED, text);
      assert.equal(code, 0, text);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
