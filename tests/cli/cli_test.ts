// The `switchboard` command line, end to end in subprocesses: serve on an ephemeral port,
// call and describe it, bad flags, help, and graceful shutdown on SIGTERM / SIGINT.

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";

const MAIN = fromFileUrl(new URL("../../main.ts", import.meta.url));
const SPEC = fromFileUrl(new URL("../wire/jsonrpc/spec_component.ts", import.meta.url));
const CWD = fromFileUrl(new URL("../../", import.meta.url));

/** Runs the CLI to completion. */
async function cli(...args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    cwd: CWD,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/** A running `switchboard serve`: its URL, its output so far, and how to stop it. */
interface Served {
  url: string;
  output: () => string;
  stop: (signal: Deno.Signal) => Promise<{ code: number; output: string }>;
}

/** Starts `serve` with the given flags and waits (bounded) for "listening on http://…". */
async function serve(...flags: string[]): Promise<Served> {
  const child = new Deno.Command(Deno.execPath(), {
    // --tcp off: the default TCP port is fixed, and tests run in parallel.
    args: ["run", "--allow-all", MAIN, "serve", "--http", "127.0.0.1:0", "--tcp", "off", ...flags],
    cwd: CWD,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  let sawUrl: (url: string) => void;
  const listening = new Promise<string>((resolve) => sawUrl = resolve);
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const match = /listening on (http:\/\/[^\s]+)/.exec(text);
      if (match) sawUrl(match[1]);
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`serve did not start within 30 s:\n${text}`)),
      30_000,
    );
  });
  const exited = child.status.then((s) => {
    throw new Error(`serve exited with ${s.code} before listening:\n${text}`);
  });
  try {
    const url = await Promise.race([listening, gaveUp, exited]);
    return {
      url,
      output: () => text,
      stop: async (signal) => {
        child.kill(signal);
        const status = await child.status;
        await drained;
        return { code: status.code, output: text };
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    await drained;
    throw error;
  } finally {
    clearTimeout(timer);
    exited.catch(() => {});
  }
}

Deno.test("cli: serve a component, call it, describe it, stop it with SIGTERM", async () => {
  const server = await serve("--component", SPEC);
  let stopped = false;
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(server.output(), /loaded Spec \(6 methods\) from file:\/\//);

    const [byPosition, byName, missing, badParams, notJson, describe, discover] = await Promise.all(
      [
        cli("call", server.url, "subtract", "[42, 23]"),
        cli("call", server.url, "Spec.get_data", "{}"),
        cli("call", server.url, "foobar"),
        cli("call", server.url, "subtract", '{"minuend": "ten", "subtrahend": 1}'),
        cli("call", server.url, "subtract", "[42,"),
        cli("describe", server.url),
        cli("describe", server.url, "--json"),
      ],
    );
    assert.equal(byPosition.code, 0, byPosition.stderr);
    assert.equal(JSON.parse(byPosition.stdout), 19);
    assert.deepEqual(JSON.parse(byName.stdout), ["hello", 5]);

    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, "");
    assert.equal(missing.stderr.trim(), "error: MethodNotFound (-32601): Method not found: foobar");
    assert.equal(badParams.code, 1);
    assert.equal(
      badParams.stderr.trim(),
      'error: InvalidParams (-32602): params.minuend: expected int, got "ten"',
    );
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr.trim(), /^switchboard call: PARAMS_JSON is not JSON: [^\n]+$/);

    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /^Spec$/m);
    assert.match(describe.stdout, /^ {2}subtract\(minuend: int, subtrahend: int\) -> int/m);
    assert.match(
      describe.stdout,
      /^ {2}update\(a\?: int, b\?: int, c\?: int, d\?: int, e\?: int\)/m,
    );
    assert.match(describe.stdout, /^ {2}get_data\(\) -> any\[\]/m);
    assert.match(describe.stdout, /^ {2}notify_hello\(n: int\)$/m); // returns nothing
    assert.equal(JSON.parse(discover.stdout).openrpc, "1.3.2");

    const result = await server.stop("SIGTERM");
    stopped = true;
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /shutting down: finishing in-flight calls/);
  } finally {
    if (!stopped) await server.stop("SIGKILL");
  }
});

Deno.test("cli: serve the demo by default; SIGINT finishes an in-flight call, then exits 0", async () => {
  const server = await serve();
  let stopped = false;
  try {
    const slow = fetch(`${server.url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"jsonrpc":"2.0","method":"Echo.sleep","params":[1000],"id":1}',
    });
    // A later request answered means the server has the slow one in hand.
    const health = await fetch(`${server.url}/healthz`);
    assert.deepEqual(await health.json(), { ok: true });
    const result = await server.stop("SIGINT");
    stopped = true;
    assert.equal(result.code, 0, result.output);
    const answered = await (await slow).json();
    assert.deepEqual(answered, { jsonrpc: "2.0", result: true, id: 1 });
  } finally {
    if (!stopped) await server.stop("SIGKILL");
  }
});

Deno.test("cli: bad flags and arguments exit 2 with one clear line", async () => {
  const cases: [string[], RegExp][] = [
    [["serve", "--bogus"], /^switchboard serve: unknown option --bogus \(see --help\)$/],
    [["serve", "--max-body"], /^switchboard serve: Option '--max-body <value>' argument missing/],
    [
      ["serve", "--http", "nonsense"],
      /^--http: expected host:port, :port, port or off, got "nonsense"$/,
    ],
    [["serve", "--max-body=-5"], /^--max-body: expected a positive number of bytes$/],
    [["serve", "extra"], /^switchboard serve: unexpected argument extra/],
    [["call"], /^switchboard call: expected URL METHOD \[PARAMS_JSON\] \(see --help\)$/],
    [["call", "http://127.0.0.1:1", "A.b", "7"], /PARAMS_JSON must be a JSON array or object/],
    [["call", "http://127.0.0.1:1", "A.b", "--timeout", "soon"], /^--timeout: expected a positive/],
    [["call", "http://x", "A.b", "--protocol", "soap"], /^--protocol: expected jsonrpc or xmlrpc/],
    [["describe"], /^switchboard describe: expected URL/],
    [["describe", "--wat", "http://x"], /^switchboard describe: unknown option --wat/],
    [["frobnicate"], /^switchboard: unknown command "frobnicate" \(see --help\)$/],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(...args)));
  results.forEach((r, i) => {
    const [args, pattern] = cases[i];
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${args.join(" ")}: not one line:\n${r.stderr}`);
    assert.match(lines[0], pattern, args.join(" "));
    assert.equal(r.stdout, "");
  });
});

Deno.test("cli: --help everywhere; a server that is down is a one-line error, exit 1", async () => {
  const [top, serveHelp, callHelp, describeHelp, bare, down] = await Promise.all([
    cli("--help"),
    cli("serve", "--help"),
    cli("call", "-h"),
    cli("describe", "--help"),
    cli(),
    cli("call", "http://127.0.0.1:9", "A.b"),
  ]);
  for (
    const [r, usage] of [
      [top, "Usage: switchboard <command>"],
      [serveHelp, "Usage: switchboard serve"],
      [callHelp, "Usage: switchboard call URL METHOD"],
      [describeHelp, "Usage: switchboard describe URL"],
    ] as const
  ) {
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(usage), r.stdout);
  }
  assert.equal(bare.code, 2); // no command: usage, and a usage error
  assert.ok(bare.stdout.startsWith("Usage: switchboard <command>"));
  assert.equal(down.code, 1);
  assert.match(
    down.stderr.trim(),
    /^error: Unavailable \(-32005\): cannot reach http:\/\/127\.0\.0\.1:9\/: [^\n]+$/,
  );
});

Deno.test("cli: a component that cannot load is a one-line error, exit 1", async () => {
  const missing = await cli(
    "serve",
    "--http",
    "127.0.0.1:0",
    "--component",
    "./no/such/component.ts",
  );
  assert.equal(missing.code, 1);
  const lines = missing.stderr.trim().split("\n");
  assert.match(
    lines[0],
    /^switchboard serve: cannot load component file:\/\/.*no\/such\/component\.ts/,
  );
});
