// connect([url, …]): one interface over several replicas, each a real server on a real
// socket. Which replica ran a call is read from its answer; executions are counted per
// replica, so "never ran twice" is observed, not assumed.
import assert from "node:assert/strict";
import { BalancedTransport, connect, defineInterface, implement, method, t } from "../../../mod.ts";
import { MultiClient } from "../../../deploy.ts";
import { Server } from "../../../server.ts";
import "../../../src/adapters/deno/tcp_client.ts";
import { relay } from "../../deploy/relay.ts";

const Work = defineInterface("Work", {
  read: method({ params: { key: t.string }, result: t.string, idempotent: true }),
  write: method({ params: { key: t.string }, result: t.string }),
  slow: method({ params: { ms: t.int }, result: t.string, idempotent: true }),
});

const quiet = { logger: { error: () => {}, warn: () => {} } };

interface Replica {
  server: Server;
  url: string;
  name: string;
  runs: string[];
  /** Calls whose handler saw its caller cancel. */
  cancelled: number;
  /** Makes `slow` (and every call) hang until released. */
  stall: boolean;
  release: () => void;
}

async function replica(name: string, protocol: "tcp" | "http" = "tcp"): Promise<Replica> {
  const server = new Server(quiet);
  const self: Replica = {
    server,
    url: "",
    name,
    runs: [],
    cancelled: 0,
    stall: false,
    release: () => {},
  };
  let released = Promise.withResolvers<void>();
  self.release = () => {
    released.resolve();
    released = Promise.withResolvers<void>();
  };
  const run = async (what: string, signal: AbortSignal) => {
    self.runs.push(what);
    if (self.stall) {
      await Promise.race([
        released.promise,
        new Promise((r) => signal.addEventListener("abort", r, { once: true })),
      ]);
      if (signal.aborted) self.cancelled++;
    }
    return name;
  };
  server.register(implement(Work, {
    read: ({ key }, ctx) => run(`read ${key}`, ctx.signal),
    write: ({ key }, ctx) => run(`write ${key}`, ctx.signal),
    slow: async ({ ms }, ctx) => {
      await new Promise((r) => setTimeout(r, ms));
      return await run(`slow ${ms}`, ctx.signal);
    },
  }));
  self.url = protocol === "tcp"
    ? (await server.listenTcp({ port: 0 })).url
    : (await server.listenHttp({ port: 0 })).url;
  return self;
}

/** A URL where nothing listens (a port just freed). */
function deadUrl(scheme: "tcp" | "http"): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `${scheme}://127.0.0.1:${port}`;
}

function statusOf(client: { transport: unknown }) {
  return (client.transport as BalancedTransport).status();
}

Deno.test("balance: least-in-flight spreads calls over every replica", async () => {
  const replicas = await Promise.all(["a", "b", "c"].map((n) => replica(n)));
  const client = connect(replicas.map((r) => r.url), { timeout: 10_000 });
  const work = client.proxy(Work);
  try {
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => work.read({ key: `k${i}` })),
    );
    for (const r of replicas) {
      const n = answers.filter((a) => a === r.name).length;
      assert.ok(n > 30, `replica ${r.name} got ${n} of 300`);
      assert.equal(r.runs.length, n);
    }
  } finally {
    await client.close();
    await Promise.all(replicas.map((r) => r.server.close()));
  }
});

Deno.test("balance: round-robin takes turns; sticky keeps a key on its replica", async () => {
  const replicas = await Promise.all(["a", "b", "c"].map((n) => replica(n, "http")));
  const rr = connect(replicas.map((r) => r.url), { balance: "round-robin" });
  const sticky = connect(replicas.map((r) => r.url), { balance: { sticky: "key" } });
  try {
    const turns = [];
    for (let i = 0; i < 6; i++) turns.push(await rr.proxy(Work).read({ key: "x" }));
    assert.deepEqual(turns, ["a", "b", "c", "a", "b", "c"]);
    const homes = new Map<string, string>();
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 20; k++) {
        const home = await sticky.proxy(Work).read({ key: `user-${k}` });
        assert.equal(homes.get(`user-${k}`) ?? home, home, `user-${k} moved`);
        homes.set(`user-${k}`, home);
      }
    }
    assert.ok(new Set(homes.values()).size > 1, "keys spread over replicas");
  } finally {
    await rr.close();
    await sticky.close();
    await Promise.all(replicas.map((r) => r.server.close()));
  }
});

Deno.test("balance: a replica nobody answers at is skipped, even for non-idempotent calls, then ejected", async () => {
  for (const scheme of ["tcp", "http"] as const) {
    const live = await replica("live", scheme);
    const dead = deadUrl(scheme);
    const client = connect([dead, live.url], { timeout: 10_000 });
    try {
      for (let i = 0; i < 20; i++) {
        // Refused while connecting: the call never left, so even a write may go elsewhere.
        assert.equal(await client.proxy(Work).write({ key: `w${i}` }), "live", scheme);
      }
      assert.equal(live.runs.length, 20);
      const [deadStatus, liveStatus] = statusOf(client);
      assert.equal(deadStatus.state, "open", `${scheme}: the dead replica is ejected`);
      assert.equal(liveStatus.state, "closed");
    } finally {
      await client.close();
      await live.server.close();
    }
  }
});

/**
 * Sends `first` (to a, by round-robin) and the other call (to b) with both replicas stalled,
 * drops a's connection (a relay between), then lets b answer.
 */
async function dropWhileInFlight(a: Replica, b: Replica, first: "read" | "write") {
  a.runs.length = b.runs.length = 0;
  a.stall = b.stall = true;
  const toA = relay(Number(new URL(a.url).port));
  const client = connect([`tcp://127.0.0.1:${toA.port}`, b.url], {
    timeout: 10_000,
    balance: "round-robin",
  });
  const work = client.proxy(Work);
  const settled = (p: Promise<string>) =>
    p.then((value) => ({ value }), (error: Error) => ({ error }));
  try {
    const calls = first === "read"
      ? [settled(work.read({ key: "r" })), settled(work.write({ key: "w" }))]
      : [settled(work.write({ key: "w" })), settled(work.read({ key: "r" }))];
    while (a.runs.length < 1) await new Promise((r) => setTimeout(r, 5));
    await toA.close();
    b.stall = false;
    b.release();
    const [onA, onB] = await Promise.all(calls);
    return { onA, onB, runsA: [...a.runs], runsB: [...b.runs] };
  } finally {
    a.release();
    await client.close();
  }
}

Deno.test("balance: a dropped connection retries an idempotent call elsewhere, never a non-idempotent one", async () => {
  const a = await replica("a"), b = await replica("b");
  try {
    const reading = await dropWhileInFlight(a, b, "read");
    assert.deepEqual(reading.onA, { value: "b" }, "the read was retried on b");
    assert.deepEqual(reading.onB, { value: "b" });
    assert.deepEqual(reading.runsA, ["read r"]);
    assert.deepEqual(reading.runsB.sort(), ["read r", "write w"]);

    const writing = await dropWhileInFlight(a, b, "write");
    const error = (writing.onA as { error: Error }).error;
    assert.equal(error?.name, "Unavailable");
    assert.match(error.message, /^Work\.write: replica tcp:\/\/127\.0\.0\.1:\d+ failed: /);
    assert.match(
      error.message,
      /not retried: the call may have run, and Work\.write is not declared idempotent/,
    );
    assert.deepEqual(writing.onB, { value: "b" });
    assert.deepEqual(writing.runsA, ["write w"]);
    assert.deepEqual(writing.runsB, ["read r"], "the write was not sent again");
  } finally {
    await a.server.close();
    await b.server.close();
  }
});

Deno.test("balance: every replica ejected: calls are refused locally, without a network call, then probed back", async () => {
  const dead = [deadUrl("tcp"), deadUrl("tcp")];
  const client = connect(dead, {
    timeout: 5000,
    breaker: { consecutiveFailures: 2, openMs: 300 },
  });
  try {
    for (let i = 0; i < 6; i++) {
      await assert.rejects(client.call("Work.read", { key: "x" }), { name: "Unavailable" });
    }
    assert.deepEqual(statusOf(client).map((s) => s.state), ["open", "open"]);
    const started = performance.now();
    await assert.rejects(client.call("Work.read", { key: "x" }), (error: Error) => {
      assert.equal(error.name, "Unavailable");
      assert.match(error.message, /every replica is ejected after failing \(circuit open\)/);
      return true;
    });
    assert.ok(performance.now() - started < 1000);
    // After the open period, a replica that came back is probed and taken back.
    const back = new Server(quiet).register(implement(Work, {
      read: () => "back",
      write: () => "back",
      slow: () => "back",
    }));
    const port = Number(new URL(dead[0]).port);
    await back.listenTcp({ hostname: "127.0.0.1", port });
    try {
      await new Promise((r) => setTimeout(r, 400));
      let answer: unknown;
      for (let i = 0; i < 20 && answer !== "back"; i++) {
        answer = await client.call("Work.read", { key: "x" }).catch((e) => e.name);
        if (answer !== "back") await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(answer, "back");
      assert.equal(statusOf(client)[0].state, "closed");
    } finally {
      await back.close();
    }
  } finally {
    await client.close();
  }
});

Deno.test("balance: hedging answers an idempotent call from the second replica when the first stalls, and cancels the loser", async () => {
  const a = await replica("a"), b = await replica("b");
  a.stall = true;
  const client = connect([a.url, b.url], {
    timeout: 10_000,
    balance: "round-robin",
    hedge: { delay: 50 },
  });
  try {
    assert.equal(await client.proxy(Work).read({ key: "h" }), "b");
    assert.deepEqual(a.runs, ["read h"]);
    assert.deepEqual(b.runs, ["read h"]);
    for (let i = 0; i < 100 && a.cancelled === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(a.cancelled, 1, "the stalled attempt was cancelled");
    // A non-idempotent call is never hedged: it waits for its one replica.
    a.runs.length = 0;
    b.runs.length = 0;
    const write = client.proxy(Work).write({ key: "w" }); // round-robin: to a
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(b.runs, []);
    a.release();
    assert.equal(await write, "a");
  } finally {
    await client.close();
    await a.server.close();
    await b.server.close();
  }
});

Deno.test("balance: retries stay within the budget during a total outage", async () => {
  let sent = 0;
  const counting = (name: string) => ({
    name,
    transport: {
      call: () => {
        sent++;
        return Promise.reject(new Error("connection reset"));
      },
      notify: () => Promise.resolve(),
      close: () => Promise.resolve(),
    },
  });
  const transport = new BalancedTransport([counting("a"), counting("b"), counting("c")], {
    retry: { budget: { ratio: 0.1, reserve: 5 }, backoff: { delay: () => 0 } },
    // Never ejected: the budget alone bounds the retries here.
    breaker: { consecutiveFailures: Infinity, minCalls: Infinity },
  });
  for (let i = 0; i < 1000; i++) {
    await assert.rejects(transport.call({ method: "Work.read", idempotent: true }), {
      name: "Unavailable",
    });
  }
  const retries = sent - 1000;
  assert.ok(retries >= 100 && retries <= 105, `${retries} retries for 1000 calls`);
});

Deno.test("balance: MultiClient balances an interface served by several processes", async () => {
  const a = await replica("a"), b = await replica("b", "http");
  const client = new MultiClient({
    routes: {
      Work: [
        { url: a.url, process: "work#1" },
        { url: b.url, process: "work#2" },
      ],
    },
  });
  try {
    const answers = new Set<string>();
    for (let i = 0; i < 40; i++) answers.add(await client.proxy(Work).read({ key: `${i}` }));
    assert.deepEqual([...answers].sort(), ["a", "b"]);
    await a.server.close();
    for (let i = 0; i < 20; i++) assert.equal(await client.proxy(Work).read({ key: `${i}` }), "b");
  } finally {
    await client.close();
    await b.server.close();
  }
});
