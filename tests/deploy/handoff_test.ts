// `serve --deployed NAME` as the supervisor runs it: plan and secret on stdin, then the
// pipe held open; end of stdin means the supervisor is gone.

import assert from "node:assert/strict";
import { handoffLine } from "../../src/deploy/handoff.ts";
import { planDeployment } from "../../src/deploy/plan.ts";
import { freePorts, MAIN, until } from "./helpers.ts";

const GREETER = new URL("./fixtures/greeter.ts", import.meta.url).href;

async function greeterPlan(port: number) {
  return await planDeployment(
    { processes: { greeter: { components: [GREETER], listen: [{ http: `127.0.0.1:${port}` }] } } },
    new URL(import.meta.url),
  );
}

function start(name: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--deployed", name],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      lines.push(...chunk.split("\n").filter(Boolean));
    }
  };
  const output = Promise.all([pump(child.stdout), pump(child.stderr)]);
  return { child, lines, output, stdin: child.stdin.getWriter() };
}

Deno.test("deployed process: drains and exits when its supervisor's pipe closes", async () => {
  const [port] = freePorts(1);
  const run = start("greeter");
  await run.stdin.write(
    new TextEncoder().encode(
      handoffLine({ plan: await greeterPlan(port), secret: "s".repeat(32) }),
    ),
  );
  await until(
    "ready",
    () => run.lines.some((l) => l.startsWith("switchboard: ready")) || undefined,
  );
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  // What kill -9 of the supervisor does to this pipe: the write end closes.
  await run.stdin.close();
  const status = await Promise.race([
    run.child.status,
    new Promise<"hung">((r) => setTimeout(() => r("hung"), 15_000)),
  ]);
  if (status === "hung") run.child.kill("SIGKILL");
  await run.output;
  assert.notEqual(status, "hung", run.lines.join("\n"));
  assert.equal((status as Deno.CommandStatus).code, 0);
  assert.ok(run.lines.some((l) => /the supervisor is gone/.test(l)), run.lines.join("\n"));
});

Deno.test("deployed process: its address in use is reported once, with the exit code that stops restarts", async () => {
  const [port] = freePorts(1);
  const holder = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const run = start("greeter");
    await run.stdin.write(
      new TextEncoder().encode(
        handoffLine({ plan: await greeterPlan(port), secret: "s".repeat(32) }),
      ),
    );
    const status = await run.child.status;
    await run.stdin.close().catch(() => {});
    await run.output;
    assert.equal(status.code, 78, run.lines.join("\n"));
    const said = run.lines.filter((l) =>
      /cannot listen: .*another program holds the address/.test(l)
    );
    assert.equal(said.length, 1, run.lines.join("\n"));
  } finally {
    holder.close();
  }
});

Deno.test("deployed process: started without a handoff, it says who starts it", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "serve", "--deployed", "x"],
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  assert.notEqual(out.code, 0);
  assert.match(new TextDecoder().decode(out.stderr), /started by switchboard deploy/);
});

Deno.test("deployed process: answers its supervisor's pings on stdout; junk and overlong lines change nothing", async () => {
  const [port] = freePorts(1);
  const run = start("greeter");
  const write = (text: string) => run.stdin.write(new TextEncoder().encode(text));
  try {
    await write(handoffLine({ plan: await greeterPlan(port), secret: "s".repeat(32) }));
    await until(
      "ready",
      () => run.lines.some((l) => l.startsWith("switchboard: ready")) || undefined,
    );
    // A line split across writes is one message; what is not a message is ignored.
    await write('{"pi');
    await write('ng":1}\nnot json\n{"ping":"x"}\n');
    await until("pong 1", () => run.lines.includes("switchboard: pong 1") || undefined);
    // An overlong line is dropped whole, and what follows it is read again.
    await write(`{"ping":2,"pad":"${"x".repeat(100_000)}"}\n{"ping":3}\n`);
    await until("pong 3", () => run.lines.includes("switchboard: pong 3") || undefined);
    assert.ok(!run.lines.includes("switchboard: pong 2"), run.lines.join("\n"));
    assert.equal(run.lines.filter((l) => l.startsWith("switchboard: pong")).length, 2);
  } finally {
    await run.stdin.close().catch(() => {});
    await run.child.status;
    await run.output;
  }
});
