import assert from "node:assert/strict";
import { Supervisor } from "../../src/deploy/supervisor.ts";
import type { ChildSpec } from "../../src/deploy/child.ts";
import { EXIT_CONFIG } from "../../src/deploy/restart.ts";

/** A child running `code` with Deno. */
function child(name: string, code: string, env: Record<string, string> = {}): ChildSpec {
  return { name, command: Deno.execPath(), args: ["eval", code], env };
}

const SERVES = `
  const keep = setInterval(() => {}, 1000);
  Deno.addSignalListener("SIGTERM", async () => {
    console.log("draining");
    await new Promise((r) => setTimeout(r, 200));
    console.log("drained");
    clearInterval(keep);
    Deno.exit(0);
  });
  console.log("ready");
`;

async function until(what: string, test: () => boolean, timeout = 20_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function collector() {
  const lines: string[] = [];
  return { lines, log: (line: string) => void lines.push(line) };
}

Deno.test("supervisor: prefixes output, reports status, and lets children drain on stop", async () => {
  const out = collector();
  const supervisor = new Supervisor([child("web", SERVES), child("worker-1", SERVES)], {
    log: out.log,
    isReady: (line) => line === "ready",
  });
  supervisor.start();
  await supervisor.ready();
  const status = supervisor.status();
  assert.deepEqual(status.map((s) => [s.name, s.state, s.restarts]), [
    ["web", "running", 0],
    ["worker-1", "running", 0],
  ]);
  assert.ok(status.every((s) => typeof s.pid === "number" && s.uptime >= 0));
  assert.ok(out.lines.includes("web        | ready"), out.lines.join("\n"));
  assert.ok(out.lines.includes("worker-1   | ready"), out.lines.join("\n"));
  await supervisor.stop();
  assert.deepEqual(await supervisor.finished, { ok: true });
  // In-flight work finished before the child exited.
  const web = out.lines.filter((l) => l.startsWith("web "));
  assert.deepEqual(web.slice(-2), ["web        | draining", "web        | drained"]);
  assert.deepEqual(supervisor.status().map((s) => s.state), ["stopped", "stopped"]);
  assert.deepEqual(supervisor.status()[0].lastExit, { code: 0, signal: null });
});

Deno.test("supervisor: a crashed child is restarted after a backoff", async () => {
  const marker = await Deno.makeTempFile();
  await Deno.remove(marker);
  const out = collector();
  const supervisor = new Supervisor([
    child(
      "flaky",
      `
      try { Deno.statSync(Deno.env.get("MARKER")); } catch {
        Deno.writeTextFileSync(Deno.env.get("MARKER"), "x");
        console.error("first run: failing");
        Deno.exit(3);
      }
      ${SERVES}
    `,
      { MARKER: marker },
    ),
  ], { log: out.log, isReady: (line) => line === "ready", restart: { initialDelay: 50 } });
  supervisor.start();
  await supervisor.ready();
  const [flaky] = supervisor.status();
  assert.equal(flaky.state, "running");
  assert.equal(flaky.restarts, 1);
  assert.deepEqual(flaky.lastExit, { code: 3, signal: null });
  assert.ok(out.lines.includes("flaky      | first run: failing"));
  assert.ok(out.lines.includes("supervisor | flaky exited with code 3; restarting in 50 ms"));

  // kill -9: restarted again, with twice the delay (second crash within the window).
  supervisor.kill("flaky", "SIGKILL");
  await until("the restart", () => supervisor.status()[0].restarts === 2);
  await until("readiness", () => supervisor.status()[0].state === "running");
  assert.deepEqual(supervisor.status()[0].lastExit, { code: 137, signal: "SIGKILL" });
  assert.ok(out.lines.includes("supervisor | flaky killed by SIGKILL; restarting in 100 ms"));
  await supervisor.stop();
  assert.deepEqual(await supervisor.finished, { ok: true });
  await Deno.remove(marker);
});

Deno.test("supervisor: gives up loudly on a crash loop and stops the others", async () => {
  const out = collector();
  const supervisor = new Supervisor([
    child("steady", SERVES),
    child("broken", `console.error("boom"); Deno.exit(1);`),
  ], {
    log: out.log,
    isReady: (line) => line === "ready",
    restart: { initialDelay: 10, maxCrashes: 3, window: 60_000 },
  });
  supervisor.start();
  await assert.rejects(supervisor.ready(), /broken crashed 3 times within 60 s/);
  const outcome = await supervisor.finished;
  assert.equal(outcome.ok, false);
  assert.match(
    outcome.reason!,
    /broken crashed 3 times within 60 s \(last: exited with code 1\); giving up/,
  );
  assert.equal(out.lines.filter((l) => l === "broken     | boom").length, 3);
  assert.ok(out.lines.some((l) => l.startsWith("supervisor | CRASH LOOP: broken crashed 3 times")));
  assert.deepEqual(supervisor.status().map((s) => s.state), ["stopped", "failed"]);
});

Deno.test("supervisor: a child that does not drain in time is killed", async () => {
  const out = collector();
  const supervisor = new Supervisor([
    child(
      "stuck",
      `Deno.addSignalListener("SIGTERM", () => {}); setInterval(() => {}, 1000); console.log("ready");`,
    ),
  ], { log: out.log, isReady: (line) => line === "ready", drainTimeout: 300 });
  supervisor.start();
  await supervisor.ready();
  await supervisor.stop();
  assert.deepEqual(await supervisor.finished, { ok: true });
  assert.ok(out.lines.includes("supervisor | stuck did not drain within 300 ms: SIGKILL"));
  assert.equal(supervisor.status()[0].lastExit?.signal, "SIGKILL");
});

Deno.test("supervisor: a child that exits with EXIT_CONFIG is not restarted; the deployment fails once", async () => {
  const out = collector();
  const supervisor = new Supervisor([
    child("bad", `console.error("cannot listen: address in use"); Deno.exit(${EXIT_CONFIG});`),
    child("good", SERVES),
  ], { log: out.log, isReady: (line) => line === "ready" });
  supervisor.start();
  const outcome = await supervisor.finished;
  assert.equal(outcome.ok, false);
  assert.match(outcome.reason!, /bad cannot run as configured .*not restarting it/);
  assert.equal(out.lines.filter((l) => /address in use/.test(l)).length, 1, out.lines.join("\n"));
  assert.ok(!out.lines.some((l) => /restarting in|CRASH LOOP/.test(l)), out.lines.join("\n"));
  assert.equal(supervisor.status().find((p) => p.name === "bad")!.restarts, 0);
});

Deno.test("supervisor: a child's stdin carries what it was given, then ends when the supervisor stops", async () => {
  const out = collector();
  const supervisor = new Supervisor([{
    name: "reader",
    command: Deno.execPath(),
    args: [
      "eval",
      `const r = Deno.stdin.readable.getReader(); const first = await r.read();
       console.log("got " + new TextDecoder().decode(first.value).trim());
       console.log("ready");
       while (!(await r.read()).done) {}
       console.log("stdin ended");`,
    ],
    stdin: "hand-off\n",
  }], { log: out.log, isReady: (line) => line === "ready" });
  supervisor.start();
  await supervisor.ready();
  assert.ok(out.lines.some((l) => /reader\s+\| got hand-off$/.test(l)), out.lines.join("\n"));
  // The pipe stays open while the supervisor runs: the child is still waiting.
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!out.lines.some((l) => /stdin ended/.test(l)));
  await supervisor.stop();
});

/** A child that answers the supervisor's pings and prints the news it gets. */
const ANSWERS = `
  console.log("ready");
  let rest = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\\n");
    rest = parts.pop();
    for (const line of parts) {
      const m = JSON.parse(line);
      if (m.ping !== undefined) console.log("switchboard: pong " + m.ping);
      else console.log("news " + line);
    }
  }
`;

function answering(name: string): ChildSpec {
  return { name, command: Deno.execPath(), args: ["eval", ANSWERS], stdin: "" };
}

Deno.test("supervisor: a frozen child is unresponsive until it answers again; the others are told both", async () => {
  const out = collector();
  const supervisor = new Supervisor([answering("frozen"), answering("other")], {
    log: out.log,
    isReady: (line) => line === "ready",
    liveness: { interval: 100, timeout: 1000, restartAfter: 0 },
  });
  supervisor.start();
  try {
    await supervisor.ready();
    const pid = supervisor.status()[0].pid!;
    Deno.kill(pid, "SIGSTOP");
    const stoppedAt = Date.now();
    try {
      await until("unresponsive", () => supervisor.status()[0].state === "unresponsive");
      const [frozen, other] = supervisor.status();
      assert.equal(frozen.pid, pid);
      const since = Date.parse(frozen.unresponsiveSince!);
      assert.ok(since >= stoppedAt - 1000 && since <= Date.now(), frozen.unresponsiveSince);
      assert.equal(other.state, "running");
      assert.equal(other.unresponsiveSince, undefined);
      await until(
        "the news",
        () => out.lines.some((l) => /^other\s+\| news \{"down":"frozen","since":\d+\}$/.test(l)),
      );
      // Never killed with restartAfter 0, however long it stays frozen.
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(supervisor.status()[0].state, "unresponsive");
    } finally {
      Deno.kill(pid, "SIGCONT");
    }
    await until("running again", () => supervisor.status()[0].state === "running");
    await until(
      "the news",
      () => out.lines.some((l) => /^other\s+\| news \{"up":"frozen"\}$/.test(l)),
    );
    assert.equal(supervisor.status()[0].restarts, 0);
    assert.ok(out.lines.some((l) => /^supervisor \| frozen answers again/.test(l)));
    // Pongs are the supervisor's business, not the log's.
    assert.ok(!out.lines.some((l) => l.includes("pong")), out.lines.join("\n"));
  } finally {
    await supervisor.stop();
  }
});

Deno.test("supervisor: a child frozen past restartAfter is killed and restarted; its replacement learns who is down", async () => {
  const out = collector();
  const supervisor = new Supervisor([answering("frozen"), answering("late")], {
    log: out.log,
    isReady: (line) => line === "ready",
    liveness: { interval: 100, timeout: 1000, restartAfter: 1000 },
    restart: { initialDelay: 10 },
  });
  supervisor.start();
  try {
    await supervisor.ready();
    Deno.kill(supervisor.status()[0].pid!, "SIGSTOP");
    await until("the restart", () => supervisor.status()[0].restarts === 1);
    await until("running again", () => supervisor.status()[0].state === "running");
    assert.deepEqual(supervisor.status()[0].lastExit, { code: 137, signal: "SIGKILL" });
    assert.ok(
      out.lines.some((l) => /^supervisor \| frozen has not answered for \d+ ms: SIGKILL/.test(l)),
    );
    await until(
      "the news",
      () => out.lines.some((l) => /^late\s+\| news \{"up":"frozen"\}$/.test(l)),
    );
    // A child started while another is down is told at its start.
    Deno.kill(supervisor.status()[0].pid!, "SIGSTOP");
    await until("unresponsive", () => supervisor.status()[0].state === "unresponsive");
    supervisor.kill("late", "SIGKILL");
    await until("late's restart", () => supervisor.status()[1].restarts === 1);
    await until(
      "the news at start",
      () => out.lines.filter((l) => /^late\s+\| news \{"down":"frozen"/.test(l)).length === 3,
    );
  } finally {
    await supervisor.stop();
  }
});

Deno.test("supervisor: stopping continues a frozen child so that it drains", async () => {
  const out = collector();
  const supervisor = new Supervisor([child("paused", SERVES)], {
    log: out.log,
    isReady: (line) => line === "ready",
    drainTimeout: 15_000,
  });
  supervisor.start();
  await supervisor.ready();
  Deno.kill(supervisor.status()[0].pid!, "SIGSTOP");
  await supervisor.stop();
  // Without SIGCONT it would have hung until the drain timeout and been SIGKILLed.
  assert.deepEqual(supervisor.status()[0].lastExit, { code: 0, signal: null });
  assert.ok(out.lines.includes("paused     | drained"), out.lines.join("\n"));
});
