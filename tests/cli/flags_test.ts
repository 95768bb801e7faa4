import assert from "node:assert/strict";
import { FlagError, parseFlags } from "../../src/cli/flags.ts";

const OPTIONS = {
  http: { type: "string", default: "127.0.0.1:8080" },
  amqp: { type: "string", multiple: true },
  debug: { type: "boolean", default: false },
  help: { type: "boolean", short: "h" },
  out: { type: "string", short: "o" },
  tags: { type: "string", multiple: true, default: ["a"] },
} as const;

Deno.test("flags: long, short, inline values, repeats, defaults and positionals", () => {
  const { values, positionals } = parseFlags(
    ["first", "--http", "0.0.0.0:1", "--amqp=amqp://a", "--amqp", "amqp://b", "-h", "-o", "x", "2"],
    OPTIONS,
  );
  assert.deepEqual(values, {
    http: "0.0.0.0:1",
    amqp: ["amqp://a", "amqp://b"],
    debug: false,
    help: true,
    out: "x",
    tags: ["a"],
  });
  assert.deepEqual(positionals, ["first", "2"]);
});

Deno.test("flags: absent flags take their defaults; a default array is never shared", () => {
  const one = parseFlags([], OPTIONS);
  assert.deepEqual(one.values, { http: "127.0.0.1:8080", debug: false, tags: ["a"] });
  one.values.tags.push("b");
  assert.deepEqual(parseFlags([], OPTIONS).values.tags, ["a"]);
  assert.deepEqual(OPTIONS.tags.default, ["a"]);
});

Deno.test("flags: values that look like flags need '=', and '--' ends the flags", () => {
  assert.equal(parseFlags(["--out=-5"], OPTIONS).values.out, "-5");
  assert.equal(parseFlags(["-o-5"], OPTIONS).values.out, "-5");
  assert.equal(parseFlags(["--http="], OPTIONS).values.http, "");
  const { values, positionals } = parseFlags(["--debug", "--", "--http", "-h", "x"], OPTIONS);
  assert.equal(values.debug, true);
  assert.equal(values.help, undefined);
  assert.deepEqual(positionals, ["--http", "-h", "x"]);
  assert.deepEqual(parseFlags(["-"], OPTIONS).positionals, ["-"]);
});

Deno.test("flags: grouped short flags; a string flag takes the rest of the group", () => {
  const opts = {
    a: { type: "boolean", short: "a" },
    b: { type: "boolean", short: "b" },
    o: { type: "string", short: "o" },
  } as const;
  // As node:util's parseArgs: absent flags without a default are absent keys.
  assert.deepEqual(parseFlags(["-ab"], opts).values, { a: true, b: true });
  assert.deepEqual(parseFlags(["-aofile"], opts).values, { a: true, o: "file" });
  assert.deepEqual(parseFlags(["-ao", "file"], opts).values, { a: true, o: "file" });
});

Deno.test("flags: every mistake is a FlagError of one sentence naming the flag", () => {
  const cases: [string[], string][] = [
    [["--bogus"], "unknown option --bogus"],
    [["--bogus=1"], "unknown option --bogus"],
    [["-x"], "unknown option -x"],
    [["-hx"], "unknown option -x"],
    [["--http"], "Option '--http <value>' argument missing"],
    [["-o"], "Option '-o, --out <value>' argument missing"],
    [["--http", "--debug"], "Option '--http <value>' argument is ambiguous"],
    [["-o", "-h"], "Option '-o, --out <value>' argument is ambiguous"],
    [["--debug=yes"], "Option '--debug' does not take an argument"],
    [["--help=1"], "Option '-h, --help' does not take an argument"],
    // Names of Object.prototype are not flags.
    [["--constructor"], "unknown option --constructor"],
    [["--toString=x"], "unknown option --toString"],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseFlags(args, OPTIONS),
      (error) => error instanceof FlagError && error.message === message,
      args.join(" "),
    );
  }
});
