// `switchboard deploy` end to end: real supervisor, real child processes, real sockets.

import assert from "node:assert/strict";
import { connect, sharedSecretCredentials } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { deploy, freePorts, MAIN, materialize, until } from "./helpers.ts";

const SHOP = new URL("../../examples/shop/deploy/three_processes.json", import.meta.url);
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).href;

async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("deploy: a bad file is refused with every problem and its path; nothing starts", async () => {
  const [a, b, status] = freePorts(3);
  const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
  const marker = `${dir}/started`;
  const file = `${dir}/bad.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      processes: {
        good: { components: [fixture("marker.ts")], listen: [{ tcp: `127.0.0.1:${a}` }] },
        bad: {
          components: [fixture("missing.ts"), fixture("greeter.ts")],
          listen: [{ tcp: `127.0.0.1:${a}` }, { http: `127.0.0.1:${b}`, prefix: "x" }],
          public: ["Greeter"],
        },
        front: { front: [{ http: "127.0.0.1:0" }] },
      },
      status: `127.0.0.1:${status}`,
    }),
  );
  const expected = [
    `$.processes.bad.listen[0].tcp: 127.0.0.1:${a} is already used by $.processes.good.listen[0]`,
    "$.processes.bad.listen[1].prefix: applies only to amqp",
    "$.processes.front.front[0].http: port 0 is not allowed: the other processes must know the port in advance",
  ];
  for (const args of [["deploy", file], ["deploy", "--check", file]]) {
    const run = await cli(args, { MARKER_FILE: marker });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /3 problems/);
    for (const line of expected) assert.ok(run.stderr.includes(`  ${line}\n`), run.stderr);
    if (args.length === 2) assert.match(run.stderr, /nothing was started/);
  }
  // Once the structure is right, loading problems are reported the same way.
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      processes: {
        good: { components: [fixture("marker.ts")], listen: [{ tcp: `127.0.0.1:${a}` }] },
        bad: { components: [fixture("missing.ts"), fixture("greeter.ts")], public: ["Greeter"] },
      },
      status: `127.0.0.1:${status}`,
    }),
  );
  const run = await cli(["deploy", file], { MARKER_FILE: marker });
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /\$\.processes\.bad\.components\[0\]: cannot load component .*missing\.ts/,
  );
  assert.match(
    run.stderr,
    /\$\.processes\.bad\.listen: process bad serves Greeter but has no listener/,
  );
  assert.match(run.stderr, /nothing was started/);
  // No process ran: the marker component writes its file in every started process.
  await assert.rejects(Deno.stat(marker), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("deploy --check: a good file is summarised", async () => {
  const run = await cli(["deploy", "--check", SHOP.pathname]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /ok: 3 process\(es\)/);
  assert.match(
    run.stdout,
    /catalog: serves Catalog; listens tcp:\/\/127\.0\.0\.1:7311; public Catalog/,
  );
});

Deno.test("deploy: kill -9 of a child — the outage is a clear error, the supervisor restarts it, calls work again; no secret, no entry", async () => {
  const file = await materialize(SHOP, (value) => {
    // A long first backoff keeps the outage open while the test looks at it.
    value.restart = { initialDelay: 2500 };
  });
  const running = deploy([file.path]);
  const front = connect(`http://127.0.0.1:${file.port(7300)}`, { timeout: 20_000 });
  try {
    const before = await running.ready();
    assert.deepEqual(before.processes.map((p) => [p.name, p.restarts]), [
      ["catalog", 0],
      ["orders", 0],
      ["front", 0],
    ]);
    assert.equal(
      ((await front.call("Catalog.get", { sku: "apple" })) as { stock: number }).stock,
      10,
    );

    // Internal listeners refuse whoever cannot prove the deployment's secret; failed
    // guesses do not lock the deployment's own processes out (the front's first login to
    // orders comes after them, in the Cart.add below).
    const catalogUrl = `tcp://127.0.0.1:${file.port(7311)}`;
    const ordersUrl = `http://127.0.0.1:${file.port(7312)}`;
    for (const url of [catalogUrl, ordersUrl]) {
      const guesses = Array.from({ length: 6 }, (_, i) => ({
        auth: sharedSecretCredentials(`guess-${i}`, "intruder"),
      }));
      for (const options of [{}, ...guesses]) {
        const intruder = connect(url, { ...options, timeout: 20_000 });
        await assert.rejects(intruder.call("Catalog.list"), { name: "Unauthorized" });
        await intruder.close();
      }
    }

    const catalog = before.processes.find((p) => p.name === "catalog")!;
    Deno.kill(catalog.pid!, "SIGKILL");
    await assert.rejects(front.call("Catalog.get", { sku: "apple" }), (error: Error) => {
      assert.equal(error.name, "Unavailable");
      assert.match(error.message, /process catalog at tcp:\/\/127\.0\.0\.1:\d+ is unavailable/);
      return true;
    });
    // A call that crosses two processes (front → orders → catalog) reports it too.
    await assert.rejects(front.call("Cart.add", { cart: "k", sku: "apple", qty: 1 }), {
      name: "Unavailable",
    });

    const after = await until("the restart", async () => {
      const s = await running.status();
      const c = s?.processes.find((p) => p.name === "catalog");
      return c?.state === "running" && c.restarts === 1 ? s : undefined;
    });
    const restarted = after.processes.find((p) => p.name === "catalog")!;
    assert.notEqual(restarted.pid, catalog.pid);
    assert.deepEqual(restarted.lastExit, { code: 137, signal: "SIGKILL" });
    assert.equal(
      ((await front.call("Catalog.get", { sku: "apple" })) as { stock: number }).stock,
      10,
    );
    assert.deepEqual(await front.call("Cart.add", { cart: "k", sku: "apple", qty: 1 }), [
      { sku: "apple", qty: 1, price: 30 },
    ]);
    assert.ok(
      running.lines.some((l) =>
        /supervisor \| catalog killed by SIGKILL; restarting in 2500 ms/.test(l)
      ),
    );

    const shown = await cli(["deploy", "--status", file.path]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^catalog\s+running\s+\d+\s+1\s+\S+\s+SIGKILL$/m);
    assert.match(shown.stdout, /^orders\s+running\s+\d+\s+0\s/m);
    assert.match(shown.stdout, /Catalog -> tcp:\/\/127\.0\.0\.1:\d+ \(catalog\)/);
  } finally {
    await front.close();
    // SIGINT (a terminal's Ctrl-C) is forwarded like SIGTERM.
    assert.equal(await running.stop("SIGINT"), 0, running.lines.join("\n"));
    await Deno.remove(file.dir, { recursive: true });
  }
  assert.ok(running.lines.some((l) => l.includes("SIGINT: stopping")));
  // Every line of every process carried its name.
  assert.ok(running.lines.some((l) => l.startsWith("catalog    | switchboard: ready catalog")));
  assert.ok(running.lines.some((l) => l.startsWith("orders     | switchboard: ready orders")));
});

Deno.test("deploy: SIGTERM lets in-flight calls finish before the processes exit", async () => {
  const [tcp, http, status] = freePorts(3);
  const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
  const file = `${dir}/slow.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      processes: {
        slow: {
          components: [fixture("slow.ts")],
          listen: [{ tcp: `127.0.0.1:${tcp}` }],
          public: ["Slow"],
        },
        front: { front: [{ http: `127.0.0.1:${http}` }] },
      },
      status: `127.0.0.1:${status}`,
    }),
  );
  const running = deploy([file]);
  const front = connect(`http://127.0.0.1:${http}`, { timeout: 20_000 });
  try {
    await running.ready();
    const call = front.call("Slow.wait", { ms: 1000 });
    await new Promise((r) => setTimeout(r, 300));
    const code = running.stop();
    assert.equal(await call, "waited 1000 ms");
    assert.equal(await code, 0, running.lines.join("\n"));
    assert.ok(running.lines.some((l) => l.startsWith("slow       | shutting down")));
    assert.ok(running.lines.some((l) => l.includes("deploy slow: stopped")));
  } finally {
    await front.close();
    await running.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deploy: worker placement runs a process's components with the file's permissions", async () => {
  const [tcp, greeterTcp, http, status] = freePorts(4);
  const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
  const allowed = `${dir}/allowed.txt`;
  const denied = await Deno.makeTempFile();
  await Deno.writeTextFile(allowed, "readable");
  await Deno.writeTextFile(denied, "secret stuff");
  const file = `${dir}/worker.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      processes: {
        sandbox: {
          components: [fixture("reader.ts")],
          placement: "worker",
          // reader.ts imports greeter.ts: a worker imports only what it may read.
          permissions: { read: [dir, new URL(fixture("greeter.ts")).pathname] },
          listen: [{ tcp: `127.0.0.1:${tcp}` }],
          public: ["Reader"],
        },
        greeter: {
          components: [fixture("greeter.ts")],
          listen: [{ tcp: `127.0.0.1:${greeterTcp}` }],
        },
        front: { front: [{ http: `127.0.0.1:${http}` }] },
      },
      status: `127.0.0.1:${status}`,
    }),
  );
  const running = deploy([file]);
  const front = connect(`http://127.0.0.1:${http}`, { timeout: 20_000 });
  try {
    await running.ready();
    assert.equal(await front.call("Reader.read", { path: allowed }), "readable");
    await assert.rejects(front.call("Reader.read", { path: denied }), (error: Error) => {
      // The caller learns that access was denied; the operator's log says what to grant.
      assert.equal(error.name, "PermissionDenied");
      assert.doesNotMatch(error.message, /secret stuff|Requires|allow-read/);
      return true;
    });
    await until(
      "the operator's hint",
      () =>
        running.lines.some((l) =>
          l.includes(`Requires read access to "${denied}"; to grant it, add --allow-read=${denied}`)
        ) || undefined,
      5000,
    );
    // From inside the worker, ctx.client reaches an interface in another process.
    assert.equal(await front.call("Reader.greet", { name: "Ada" }), "hello Ada");
    assert.ok(running.lines.some((l) => /sandbox\s+\| loaded Reader .* in a worker/.test(l)));
  } finally {
    await front.close();
    assert.equal(await running.stop(), 0, running.lines.join("\n"));
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(denied);
  }
});

Deno.test("deploy: a crash loop makes deploy give up loudly, stop the rest, and exit 1", async () => {
  const [a, b, status] = freePorts(3);
  const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
  const file = `${dir}/crashy.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      processes: {
        steady: { components: [fixture("greeter.ts")], listen: [{ tcp: `127.0.0.1:${a}` }] },
        crashy: { components: [fixture("crash.ts")], listen: [{ tcp: `127.0.0.1:${b}` }] },
      },
      status: `127.0.0.1:${status}`,
      restart: { initialDelay: 10, maxCrashes: 3 },
    }),
  );
  const running = deploy([file]);
  try {
    assert.equal(await running.exited, 1);
    const out = running.lines.join("\n");
    assert.equal(
      running.lines.filter((l) => l === "crashy     | crash.ts: failing on purpose").length,
      3,
      out,
    );
    assert.match(
      out,
      /supervisor \| CRASH LOOP: crashy crashed 3 times within 60 s \(last: exited with code 7\); giving up; stopping the deployment/,
    );
    assert.match(out, /deploy crashy: FAILED: crashy crashed 3 times/);
  } finally {
    await running.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
