// `serve --workers 2` as a real process: both worker isolates answer on the same ports, one
// access log of whole lines, /metrics added up over the workers (and per worker), /healthz
// across them, a worker that dies is restarted, and SIGTERM drains both.
// The worker isolates' module is started from its URL, never imported by src/: type-check it here.
import type {} from "../../src/cli/serve_worker_entry.ts";
import assert from "node:assert/strict";
import { connect, defineInterface, implement, method, t } from "../../mod.ts";
import { publisher, subscribe } from "../../tcp.ts";
import { type ServeProcess, startServe } from "../fixtures/serve_process.ts";

const PROBE = "tests/fixtures/components/worker_probe.ts";

/** One JSON-RPC call over a connection of its own (so the kernel picks a worker for it). */
async function httpCall(url: string, method: string, params: unknown = {}): Promise<unknown> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  await conn.write(
    new TextEncoder().encode(
      `POST /rpc HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    ),
  );
  const text = await new Response(conn.readable).text();
  const json = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
  if (json.error) throw new Error(json.error.message);
  return json.result;
}

/** `GET path` over a connection of its own: the status, or undefined if none in `ms`. */
async function httpGet(url: string, path: string, ms = 2000): Promise<number | undefined> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const timer = setTimeout(() => conn.close(), ms);
  try {
    await conn.write(
      new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`),
    );
    const text = await new Response(conn.readable).text();
    return Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]) || undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** Asks `/healthz` over fresh connections until it answers `status` (bounded). */
async function healthUntil(server: ServeProcess, status: number): Promise<number | undefined> {
  let last: number | undefined;
  for (let i = 0; i < 100 && last !== status; i++) {
    last = await httpGet(server.http!, "/healthz");
    if (last !== status) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return last;
}

async function metrics(server: ServeProcess): Promise<string> {
  return await (await fetch(`${server.http}/metrics`)).text();
}

function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

/** Calls over fresh connections until both workers have answered (bounded). */
async function untilBothAnswer(
  server: ServeProcess,
): Promise<{ calls: number; seen: Set<string> }> {
  const seen = new Set<string>();
  let calls = 0;
  while (seen.size < 2 && calls < 400) {
    seen.add(String(await httpCall(server.http!, "Probe.worker")));
    calls++;
  }
  return { calls, seen };
}

/** TCP clients, one per worker: each connection's calls reach the worker it landed on. */
async function clientPerWorker(server: ServeProcess) {
  const byWorker = new Map<string, ReturnType<typeof connect>>();
  const spare: ReturnType<typeof connect>[] = [];
  for (let i = 0; i < 200 && byWorker.size < 2; i++) {
    const client = connect(server.tcp!);
    const name = String(await client.call("Probe.worker"));
    if (byWorker.has(name)) spare.push(client);
    else byWorker.set(name, client);
  }
  await Promise.all(spare.map((c) => c.close()));
  return byWorker;
}

Deno.test("serve --workers 2: both workers answer on one port, one log, totals and health", async () => {
  const server = await startServe([
    "--workers",
    "2",
    "--metrics",
    "--metrics-listen",
    "127.0.0.1:0",
    "--component",
    PROBE,
  ]);
  try {
    assert.match(server.output(), /^2 workers share these ports/m);
    const { calls, seen } = await untilBothAnswer(server);
    assert.deepEqual(
      [...seen].sort(),
      ["switchboard serve worker 0", "switchboard serve worker 1"],
    );

    const text = await metrics(server);
    const w0 = sample(text, 'switchboard_serve_worker_calls_total{worker="0"}');
    const w1 = sample(text, 'switchboard_serve_worker_calls_total{worker="1"}');
    assert.ok(w0 > 0 && w1 > 0, text);
    assert.equal(w0 + w1, calls);
    // The totals add up both workers' series.
    assert.equal(
      sample(
        text,
        'switchboard_calls_total{interface="Probe",method="worker",protocol="jsonrpc",code="ok"}',
      ),
      calls,
    );
    assert.equal(sample(text, 'switchboard_serve_worker_up{worker="1"}'), 1);
    assert.equal(text.match(/^process_resident_memory_bytes /gm)?.length, 1);
    // The metrics listener of its own (served by the main isolate) tells the same totals.
    const own = /^metrics at (http:\S+)$/m.exec(server.output())![1];
    const listened = await (await fetch(own)).text();
    assert.equal(sample(listened, 'switchboard_serve_worker_calls_total{worker="0"}'), w0);

    const health = await fetch(`${server.http}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).ok, true);

    // One access log: a whole JSON line per call, from both workers.
    await server.waitFor(
      new RegExp(`(?:"method":"Probe\\.worker"[^\\n]*\\n[^]*){${calls}}`),
      10_000,
    );
    const logLines = server.output().split("\n").filter((l) => l.startsWith("{"));
    for (const line of logLines) JSON.parse(line);
    assert.equal(logLines.filter((l) => l.includes('"method":"Probe.worker"')).length, calls);
  } finally {
    await server.stop();
  }
});

Deno.test("serve --workers 2: a worker that dies is restarted; its caller gets an error", async () => {
  const server = await startServe(["--workers", "2", "--metrics", "--component", PROBE]);
  const clients = await clientPerWorker(server);
  try {
    assert.equal(clients.size, 2);
    const [victim, survivor] = [...clients.keys()];
    const index = victim.at(-1);
    // The call in flight on the dying worker fails (the connection goes), never hangs.
    await assert.rejects(clients.get(victim)!.call("Probe.die", {}, { timeout: 20_000 }));
    await server.waitFor(new RegExp(`worker ${index} died \\(.*this isolate ends here`));
    await server.waitFor(new RegExp(`worker ${index} restarted`));
    // The other worker kept serving its connection all along.
    assert.equal(await clients.get(survivor)!.call("Probe.worker"), survivor);
    const text = await metrics(server);
    assert.equal(sample(text, `switchboard_serve_worker_restarts_total{worker="${index}"}`), 1);
    assert.equal((await fetch(`${server.http}/healthz`)).status, 200);
    // The restarted worker takes connections again.
    assert.equal((await untilBothAnswer(server)).seen.size, 2);
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await server.stop();
  }
});

Deno.test("serve --workers 2: a stuck worker makes /healthz fail, then is replaced", async () => {
  const server = await startServe(["--workers", "2", "--component", PROBE]);
  const clients = await clientPerWorker(server);
  try {
    assert.equal(clients.size, 2);
    const [victim, survivor] = [...clients.keys()];
    const index = victim.at(-1);
    const stuck = clients.get(victim)!.call("Probe.hang", {}, { timeout: 60_000 });
    stuck.catch(() => {});
    assert.equal(await healthUntil(server, 503), 503);
    await server.waitFor(new RegExp(`worker ${index} died \\(it did not answer for 15 s\\)`));
    await server.waitFor(new RegExp(`worker ${index} restarted`));
    await assert.rejects(stuck);
    assert.equal(await healthUntil(server, 200), 200);
    assert.equal(await clients.get(survivor)!.call("Probe.worker"), survivor);
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await server.stop();
  }
});

Deno.test("serve --workers 2: SIGTERM drains the calls in flight on both workers", async () => {
  const server = await startServe(["--workers", "2", "--metrics", "--component", PROBE]);
  const clients = await clientPerWorker(server);
  try {
    assert.equal(clients.size, 2);
    const calls = [...clients.values()].map((c) => c.call("Probe.sleep", { ms: 1500 }));
    // Both calls are running (the figure is the two workers' added up) before the signal.
    let running = 0;
    for (let i = 0; i < 200 && running < 2; i++) {
      running = sample(
        await metrics(server),
        'switchboard_calls_in_flight{protocol="msgpack-rpc"}',
      );
      if (running < 2) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(running, 2);
    const output = server.stop(30_000);
    assert.deepEqual(
      (await Promise.all(calls)).sort(),
      ["switchboard serve worker 0", "switchboard serve worker 1"],
    );
    await output;
    assert.equal(await server.exited, 0);
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await server.stop();
  }
});

const Feed = defineInterface("Feed", { post: method({ params: { text: t.string } }) });

Deno.test("serve --workers 2: a publish reaches the subscribers on both workers, once", async () => {
  const server = await startServe(["--workers", "2", "--http", "off", "--component", PROBE]);
  const clients = await clientPerWorker(server);
  try {
    assert.equal(clients.size, 2);
    const got = new Map<string, string[]>();
    for (const [name, client] of clients) {
      got.set(name, []);
      await subscribe(
        client,
        "news",
        implement(Feed, { post: ({ text }) => void got.get(name)!.push(text) }),
      );
    }
    // Each worker's connection publishes once: its own worker's subscriber and the other's
    // both get both calls.
    for (const [name, client] of clients) {
      await publisher(client, "news", Feed).post({ text: name });
    }
    for (let i = 0; i < 400 && [...got.values()].some((texts) => texts.length < 2); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // no duplicate follows
    const names = [...clients.keys()].sort();
    for (const texts of got.values()) assert.deepEqual(texts.sort(), names);
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await server.stop();
  }
});

const Back = defineInterface("Back", { hello: method({ result: t.string }) });

Deno.test("serve --workers 2: a server → client call reaches the calling peer on either worker", async () => {
  const server = await startServe(["--workers", "2", "--http", "off", "--component", PROBE]);
  const clients = await clientPerWorker(server);
  try {
    assert.equal(clients.size, 2);
    for (const [name, client] of clients) {
      client.register(implement(Back, { hello: () => `hello from the peer on ${name}` }));
      assert.equal(await client.call("Probe.back"), `hello from the peer on ${name} via ${name}`);
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await server.stop();
  }
});

Deno.test("serve --workers 2: an implementation marked once serves every worker's calls from one", async () => {
  const server = await startServe([
    "--workers",
    "2",
    "--metrics",
    "--component",
    PROBE,
    "--component",
    "tests/fixtures/components/once_counter.ts",
  ]);
  try {
    // Both workers take connections; each asks the one counter.
    assert.equal((await untilBothAnswer(server)).seen.size, 2);
    const counts: number[] = [];
    const where = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      counts.push(Number(await httpCall(server.http!, "Counter.next")));
      where.add(await httpCall(server.http!, "Counter.where"));
    }
    assert.deepEqual(counts, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual([...where], ["switchboard serve worker 0"]);
    // Its errors come back as they are, on every worker.
    for (let i = 0; i < 10; i++) {
      await assert.rejects(httpCall(server.http!, "Counter.fail"), /the counter overflowed/);
    }
    // The other worker did hand calls over (it counted them too, as protocol "worker" there).
    const text = await metrics(server);
    assert.ok(
      sample(
        text,
        'switchboard_calls_total{interface="Counter",method="next",protocol="worker",code="ok"}',
      ) > 0,
      text,
    );
  } finally {
    await server.stop();
  }
});

Deno.test("serve --workers 2: a once call in flight fails Unavailable when its worker dies", async () => {
  const server = await startServe([
    "--workers",
    "2",
    "--http",
    "off",
    "--component",
    PROBE,
    "--component",
    "tests/fixtures/components/once_counter.ts",
  ]);
  const clients = await clientPerWorker(server);
  try {
    const first = clients.get("switchboard serve worker 0")!;
    const second = clients.get("switchboard serve worker 1")!;
    assert.equal(await second.call("Counter.next"), 1);
    const stalled = second.call("Counter.stall", {}, { timeout: 30_000 });
    stalled.catch(() => {});
    await assert.rejects(first.call("Probe.die", {}, { timeout: 20_000 }));
    await assert.rejects(stalled, {
      name: "Unavailable",
      message: /the worker serving it (stopped|is restarting)/,
    });
    await server.waitFor(/worker 0 restarted/);
    // Served again by the new first worker (whose count starts afresh).
    assert.equal(await second.call("Counter.next"), 1);
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await server.stop();
  }
});

Deno.test("serve --workers 2: a once implementation calls back a peer connected to the other worker", async () => {
  const server = await startServe([
    "--workers",
    "2",
    "--http",
    "off",
    "--component",
    PROBE,
    "--component",
    "tests/fixtures/components/once_counter.ts",
  ]);
  const clients = await clientPerWorker(server);
  try {
    assert.equal(clients.size, 2);
    for (const [name, client] of clients) {
      client.register(implement(Back, { hello: () => `hello from the peer on ${name}` }));
      assert.equal(
        await client.call("Counter.back"),
        `hello from the peer on ${name} via switchboard serve worker 0`,
      );
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await server.stop();
  }
});

Deno.test("serve --workers 2 without reusePort: says so in one line and serves with one", async () => {
  // The project's deno.json enables --unstable-net; this configuration is the same without it.
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  config.unstable = config.unstable.filter((flag: string) => flag !== "net");
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(file, JSON.stringify(config));
  const server = await startServe(["--workers", "2", "--component", PROBE], {}, {
    denoFlags: ["--config", file, "--no-lock"],
  });
  try {
    assert.match(
      server.output(),
      /^--workers 2: sharing a port among workers \(SO_REUSEPORT\) needs Deno's --unstable-net flag; serving with one worker$/m,
    );
    assert.doesNotMatch(server.output(), /workers share these ports/);
    assert.equal(await httpCall(server.http!, "Probe.worker"), "main");
  } finally {
    await server.stop();
    await Deno.remove(file);
  }
});

Deno.test("serve --workers: a count that is not positive nor auto exits 2 with one line", async () => {
  for (const value of ["0", "two", "1.5"]) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "main.ts", "serve", "--workers", value, "--http", "127.0.0.1:0"],
      cwd: new URL("../../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(output.code, 2, value);
    assert.equal(
      new TextDecoder().decode(output.stderr),
      '--workers: expected a positive number of workers or "auto"\n',
    );
  }
});

Deno.test("serve --workers 2: a metrics address in use stops the workers and exits 1", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = taken.addr as Deno.NetAddr;
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "main.ts",
        "serve",
        "--workers",
        "2",
        "--http",
        "127.0.0.1:0",
        "--tcp",
        "off",
        "--metrics-listen",
        `127.0.0.1:${port}`,
      ],
      cwd: new URL("../../", import.meta.url),
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(60_000),
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1, stderr);
    assert.match(stderr, /in use/i);
    assert.doesNotMatch(new TextDecoder().decode(output.stdout), /^serving /m);
  } finally {
    taken.close();
  }
});

Deno.test("serve --workers 2: /metrics counts each worker's open connections", async () => {
  const server = await startServe(["--workers", "2", "--metrics", "--component", PROBE]);
  const clients = await clientPerWorker(server);
  const extraWorker = [...clients.keys()][0].at(-1);
  const more: ReturnType<typeof connect>[] = [];
  try {
    assert.equal(clients.size, 2);
    // Two more connections on the first client's worker: found by asking, the others closed.
    for (let i = 0; i < 200 && more.length < 2; i++) {
      const client = connect(server.tcp!);
      if (String(await client.call("Probe.worker")).endsWith(extraWorker!)) more.push(client);
      else await client.close();
    }
    assert.equal(more.length, 2);
    const expected = (worker: string) => worker === extraWorker ? 3 : 1;
    // The closed spares go away as their workers notice (bounded wait).
    let text = "";
    for (let i = 0; i < 200; i++) {
      text = await metrics(server);
      const tcp = ["0", "1"].map((w) =>
        sample(text, `switchboard_serve_worker_connections{worker="${w}",transport="tcp"}`)
      );
      if (tcp[0] === expected("0") && tcp[1] === expected("1")) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const w of ["0", "1"]) {
      assert.equal(
        sample(text, `switchboard_serve_worker_connections{worker="${w}",transport="tcp"}`),
        expected(w),
        text,
      );
    }
    assert.equal(sample(text, 'switchboard_open_connections{transport="tcp"}'), 4);
    // The scrape's own HTTP connection is counted on the worker that took it.
    const http = ["0", "1"].map((w) =>
      sample(text, `switchboard_serve_worker_connections{worker="${w}",transport="http"}`)
    );
    assert.ok(http.every((n) => n >= 0) && http[0] + http[1] >= 1, text);
  } finally {
    await Promise.all([...clients.values(), ...more].map((c) => c.close()));
    await server.stop();
  }
});

const Member = defineInterface("Member", {
  heard: method({ params: { text: t.string }, result: t.string }),
  noted: method({ params: { text: t.string } }),
});

/** A named TCP peer serving `Member`, on the worker the kernel gave its connection. */
async function member(server: ServeProcess, id: string, noted: string[]) {
  const client = connect(server.tcp!, { id });
  client.register(
    implement(Member, {
      heard: ({ text }) => `${id} heard ${text}`,
      noted: ({ text }) => void noted.push(text),
    }),
  );
  return { client, worker: String(await client.call("Probe.worker")) };
}

Deno.test("serve --workers 2: a once implementation keeps peers of both workers and calls them after their calls ended", async () => {
  const server = await startServe([
    "--workers",
    "2",
    "--http",
    "off",
    "--component",
    PROBE,
    "--component",
    "tests/fixtures/components/once_room.ts",
  ]);
  const members = new Map<string, Awaited<ReturnType<typeof member>>>();
  const noted = new Map<string, string[]>();
  const add = async (id: string) => {
    noted.set(id, []);
    const m = await member(server, id, noted.get(id)!);
    members.set(id, m);
    return m;
  };
  try {
    // Peers until both workers have one (bounded): each joins the one room, in worker 0.
    for (let i = 0; i < 100 && new Set([...members.values()].map((m) => m.worker)).size < 2; i++) {
      await add(`peer-${i}`);
    }
    const workers = new Set([...members.values()].map((m) => m.worker));
    assert.equal(workers.size, 2);
    for (const m of members.values()) await m.client.call("Room.join");
    const ids = [...members.keys()];
    const heard = ids.map((id) => `${id} heard hi`).sort();
    // Told from either worker, every member hears it: those on worker 1 through their own
    // connection there, though the join that brought them ended long ago.
    for (
      const m of [...members.values()].filter((m, i, all) =>
        all.findIndex((o) => o.worker === m.worker) === i
      )
    ) {
      assert.deepEqual(
        ((await m.client.call("Room.tell", { text: "hi" })) as string[]).sort(),
        heard,
      );
    }
    const first = members.get(ids[0])!;
    assert.equal(await first.client.call("Room.note", { text: "note" }), ids.length);
    for (let i = 0; i < 200 && [...noted.values()].some((n) => n.length < 1); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    for (const [id, n] of noted) assert.deepEqual(n, ["note"], id);

    // A member that left: a clear error for it, the others still hear. Back under the same
    // id on the other worker, the room reaches it there (whichever worker it first was on).
    const teller = connect(server.tcp!);
    try {
      const tell = async (text: string) => (await teller.call("Room.tell", { text })) as string[];
      for (
        const gone of [...workers].map((w) => ids.find((id) => members.get(id)!.worker === w)!)
      ) {
        const was = members.get(gone)!.worker;
        await members.get(gone)!.client.close();
        members.delete(gone);
        // Until its worker has noticed the close (a call may meet the closing connection).
        const absent =
          `${gone}: Unavailable: peer ${gone} is not connected to any worker of this server`;
        let told: string[] = [];
        for (let i = 0; i < 200; i++) {
          told = await tell("again");
          if (told.includes(absent)) break;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        assert.ok(told.includes(absent), told.join("\n"));
        for (const id of members.keys()) {
          assert.ok(told.includes(`${id} heard again`), told.join("\n"));
        }
        for (let i = 0; i < 100; i++) {
          const back = await add(gone);
          if (back.worker !== was) {
            break;
          }
          await back.client.close();
          members.delete(gone);
        }
        assert.notEqual(members.get(gone)?.worker ?? was, was);
        assert.ok((await tell("back")).includes(`${gone} heard back`), `${gone} from ${was}`);
      }
    } finally {
      await teller.close();
    }
  } finally {
    await Promise.all([...members.values()].map((m) => m.client.close()));
    await server.stop();
  }
});

/** WebSocket peers until both workers have one (bounded), by worker. */
async function wsPerWorker(server: ServeProcess, prefix: string) {
  const url = server.http!.replace("http", "ws");
  const byWorker = new Map<string, ReturnType<typeof connect>>();
  for (let i = 0; i < 200 && byWorker.size < 2; i++) {
    const client = connect(url, { id: `${prefix}-${i}` });
    const name = String(await client.call("Probe.worker"));
    if (byWorker.has(name)) await client.close();
    else byWorker.set(name, client);
  }
  return byWorker;
}

Deno.test("serve --workers 2 --websocket (no TCP): publish–subscribe and a once room reach WebSocket peers on both workers", async () => {
  const server = await startServe([
    "--workers",
    "2",
    "--tcp",
    "off",
    "--websocket",
    "--component",
    PROBE,
    "--component",
    "tests/fixtures/components/once_room.ts",
  ]);
  const clients = await wsPerWorker(server, "page");
  try {
    assert.equal(clients.size, 2);
    const got = new Map<string, string[]>();
    for (const [name, client] of clients) {
      got.set(name, []);
      await client.subscribe(
        "news",
        implement(Feed, { post: ({ text }) => void got.get(name)!.push(text) }),
      );
    }
    for (const [name, client] of clients) {
      await client.publish("news", Feed).post({ text: name });
    }
    for (let i = 0; i < 400 && [...got.values()].some((texts) => texts.length < 2); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // no duplicate follows
    const names = [...clients.keys()].sort();
    for (const texts of got.values()) assert.deepEqual(texts.sort(), names);

    // The room in worker 0 keeps both pages and tells them later, each on its own worker.
    for (const [name, client] of clients) {
      client.register(
        implement(Member, {
          heard: ({ text }) => `${name} heard ${text}`,
          noted: () => {},
        }),
      );
      await client.call("Room.join");
    }
    for (const client of clients.values()) {
      assert.deepEqual(
        ((await client.call("Room.tell", { text: "hi" })) as string[]).sort(),
        names.map((name) => `${name} heard hi`),
      );
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await server.stop();
  }
});

for (const isolate of ["worker", "process"]) {
  Deno.test(`serve --workers 2: a once component under --isolate ${isolate} runs one instance for both workers`, async () => {
    const server = await startServe([
      "--workers",
      "2",
      "--metrics",
      "--component",
      PROBE,
      "--component",
      "tests/fixtures/components/once_counter.ts",
      "--isolate",
      isolate,
    ]);
    try {
      assert.equal((await untilBothAnswer(server)).seen.size, 2);
      // Over fresh connections, so both workers take some: one count, 1..20.
      const counts: number[] = [];
      for (let i = 0; i < 20; i++) {
        counts.push(Number(await httpCall(server.http!, "Counter.next")));
      }
      assert.deepEqual(counts, Array.from({ length: 20 }, (_, i) => i + 1));
      await assert.rejects(httpCall(server.http!, "Counter.fail"), /the counter overflowed/);
      const text = await metrics(server);
      assert.ok(
        sample(
          text,
          'switchboard_calls_total{interface="Counter",method="next",protocol="worker",code="ok"}',
        ) > 0,
        text,
      );
    } finally {
      await server.stop();
    }
  });
}
