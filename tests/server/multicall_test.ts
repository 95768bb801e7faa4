// Requests of many calls through a real HTTP listener: XML-RPC's system.multicall and
// JSON-RPC batches. A multicall is held to the batch limit, every entry is the call alone
// (its fault, its exposure, its authorization), an answer that would amplify is refused
// before it is built, and other callers are answered while a long one runs.

import assert from "node:assert/strict";
import { defineError, defineInterface, implement, method, t } from "../../mod.ts";
import { type HttpOptions, type Logger, Server } from "../../server.ts";
import { readMethodResponse } from "../../src/wire/xmlrpc/reader.ts";
import { ignoreUnless, peers, RUBY } from "../fixtures/peers.ts";
import { startServe } from "../fixtures/serve_process.ts";

const quiet: Logger = { error: () => {}, warn: () => {} };
const Boom = defineError("Boom");

const Probe = defineInterface("Probe", {
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
  fail: method({ params: { why: t.string }, result: t.string, errors: ["Boom"] }),
  tick: method({ result: t.int, doc: "Counts its calls." }),
  tooBig: method({ result: t.int }),
  spin: method({ params: { ms: t.int }, result: t.int, doc: "Holds the thread ms ms." }),
});
const Secret = defineInterface("Secret", { reveal: method({ result: t.string }) });
const Admin = defineInterface("Admin", { wipe: method({ result: t.bool }) });

/** A server with the probes; `state.ticks` and `state.spins` count what ran. */
async function serve(options: HttpOptions = {}) {
  const state = { ticks: 0, spins: 0, reveals: 0 };
  const server = new Server({ logger: quiet }).register(
    implement(Probe, {
      add: ({ a, b }) => a + b,
      fail: ({ why }) => {
        throw new Boom(why);
      },
      tick: () => ++state.ticks,
      tooBig: () => 2 ** 40,
      spin: ({ ms }) => {
        const end = performance.now() + ms;
        while (performance.now() < end) { /* busy: a call that does not wait on I/O */ }
        return ++state.spins;
      },
    }),
    implement(Secret, { reveal: () => `secret ${++state.reveals}` }),
    implement(Admin, { wipe: () => true }, { allow: (caller) => caller?.id === "admin" }),
  );
  const http = await server.listenHttp({ port: 0 }, options);
  return { server, state, url: http.url };
}

const xmlValue = (v: unknown): string =>
  typeof v === "number"
    ? `<value><int>${v}</int></value>`
    : `<value><string>${String(v)}</string></value>`;

function methodCall(name: string, params: unknown[]): string {
  return `<?xml version="1.0"?><methodCall><methodName>${name}</methodName><params>${
    params.map((p) => `<param>${xmlValue(p)}</param>`).join("")
  }</params></methodCall>`;
}

function multicallBody(calls: { methodName: string; params: unknown[] }[]): string {
  const entry = (c: { methodName: string; params: unknown[] }) =>
    `<value><struct><member><name>methodName</name><value>${c.methodName}</value></member>` +
    `<member><name>params</name><value><array><data>${
      c.params.map(xmlValue).join("")
    }</data></array></value></member></struct></value>`;
  return `<?xml version="1.0"?><methodCall><methodName>system.multicall</methodName><params>` +
    `<param><value><array><data>${calls.map(entry).join("")}</data></array></value></param>` +
    `</params></methodCall>`;
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/RPC2`, {
    method: "POST",
    headers: { "content-type": "text/xml", ...headers },
    body,
  });
  assert.equal(response.status, 200);
  return await response.text();
}

type Fault = { faultCode: number; faultString: string; faultName?: string };

async function fault(url: string, body: string): Promise<Fault> {
  const response = readMethodResponse(await post(url, body));
  assert.ok(!response.ok, "expected a fault");
  return response.fault as Fault;
}

Deno.test("a multicall over the batch limit is refused whole, with a fault naming the limit", async () => {
  const { server, state, url } = await serve();
  try {
    const calls = Array.from({ length: 5000 }, () => ({ methodName: "Probe.tick", params: [] }));
    const refused = await fault(url, multicallBody(calls));
    assert.equal(refused.faultCode, -32600);
    assert.match(
      refused.faultString,
      /system\.multicall of 5000 calls exceeds the limit of 1000 calls per request \(maxBatch\)/,
    );
    assert.equal(state.ticks, 0, "no entry of a refused multicall runs");
    // The limit is the listener's batch limit, for both protocols.
    const at = await post(url, multicallBody(calls.slice(0, 1000)));
    assert.equal(state.ticks, 1000);
    assert.ok(readMethodResponse(at).ok);
  } finally {
    await server.close();
  }
});

Deno.test("a multicall of rpc.discover entries is refused at the answer budget, before more runs", async () => {
  const maxResponseBytes = 64 * 1024;
  const { server, state, url } = await serve({ maxResponseBytes });
  try {
    const single = await post(url, methodCall("rpc.discover", []));
    const calls = [
      ...Array.from({ length: 900 }, () => ({ methodName: "rpc.discover", params: [] })),
      { methodName: "Probe.tick", params: [] },
    ];
    const text = await post(url, multicallBody(calls));
    // Each entry alone is far under the budget; 900 of them are far over it.
    assert.ok(single.length * 900 > maxResponseBytes * 10);
    assert.ok(text.length < 4096, `the refusal is small, got ${text.length} characters`);
    const refused = readMethodResponse(text);
    assert.ok(!refused.ok);
    const { faultCode, faultString } = refused.fault as Fault;
    assert.equal(faultCode, -32600);
    assert.match(
      faultString,
      new RegExp(`exceeds the limit of ${maxResponseBytes} bytes \\(maxResponseBytes\\)`),
    );
    assert.equal(state.ticks, 0, "the entries after the refusal never ran");
  } finally {
    await server.close();
  }
});

Deno.test("a JSON-RPC batch of rpc.discover calls is refused at the answer budget", async () => {
  const maxResponseBytes = 64 * 1024;
  const { server, state, url } = await serve({ maxResponseBytes });
  try {
    const batch = [
      ...Array.from({ length: 900 }, (_, id) => ({ jsonrpc: "2.0", id, method: "rpc.discover" })),
      { jsonrpc: "2.0", id: "last", method: "Probe.tick" },
    ];
    const response = await fetch(`${url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(batch),
    });
    const text = await response.text();
    assert.ok(text.length < 4096, `the refusal is small, got ${text.length} characters`);
    const answer = JSON.parse(text);
    assert.equal(answer.id, null);
    assert.equal(answer.error.code, -32600);
    assert.match(answer.error.message, /exceeds the limit of 65536 bytes \(maxResponseBytes\)/);
    assert.equal(state.ticks, 0, "the members after the refusal never ran");
    // A batch within the budget is answered whole.
    const small = await fetch(`${url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(batch.slice(0, 2)),
    });
    assert.equal((await small.json()).length, 2);
  } finally {
    await server.close();
  }
});

const ENTRIES = [
  { methodName: "Probe.fail", params: ["kaput"] },
  { methodName: "Probe.add", params: ["1", 2] },
  { methodName: "Probe.nope", params: [] },
  { methodName: "Probe.tooBig", params: [] },
  { methodName: "Secret.reveal", params: [] },
  { methodName: "Admin.wipe", params: [] },
];

/** Each entry's fault struct and the same call's fault alone, for the listener at `url`. */
async function faultsBothWays(url: string, headers: Record<string, string>) {
  const multi = readMethodResponse(await post(url, multicallBody(ENTRIES), headers));
  assert.ok(multi.ok);
  const entries = multi.value as unknown[];
  assert.equal(entries.length, ENTRIES.length);
  const alone = [];
  for (const e of ENTRIES) {
    const single = readMethodResponse(await post(url, methodCall(e.methodName, e.params), headers));
    assert.ok(!single.ok, `${e.methodName} alone faults`);
    alone.push(single.fault);
  }
  return { entries, alone };
}

Deno.test("each multicall entry's fault is the fault of the same call alone", async () => {
  const { server, state, url } = await serve({
    expose: (m) => !m.startsWith("Secret."),
    authenticate: () => ({ id: "guest" }),
  });
  try {
    const plain: Record<string, string> = {};
    for (const headers of [plain, { "x-switchboard-client": "1" }]) {
      const { entries, alone } = await faultsBothWays(url, headers);
      assert.deepEqual(entries, alone);
    }
    // The cases the faults stand for: a named error, bad params, unknown, cannot travel,
    // hidden by the listener (not found, and never run), and not allowed for this caller.
    const { entries } = await faultsBothWays(url, {});
    assert.deepEqual(entries[0], { faultCode: -32000, faultString: "Boom: kaput" });
    assert.equal((entries[1] as Fault).faultCode, -32602);
    assert.equal((entries[2] as Fault).faultCode, -32601);
    assert.equal((entries[3] as Fault).faultCode, -32603);
    assert.deepEqual(entries[4], {
      faultCode: -32601,
      faultString: "Method not found: Secret.reveal",
    });
    assert.equal(state.reveals, 0, "a method the listener hides never runs");
    assert.equal((entries[5] as Fault).faultCode, -32002);
    // A name is read as <methodName> is: trimmed, and refused when empty.
    const named = readMethodResponse(
      await post(
        url,
        multicallBody([{ methodName: " \n", params: [] }, {
          methodName: " Probe.add ",
          params: [2, 3],
        }]),
      ),
    );
    assert.ok(named.ok);
    assert.deepEqual(named.value, [
      await fault(url, methodCall(" \n", [])),
      [5],
    ]);
    // And nesting is refused in place.
    const nested = readMethodResponse(
      await post(url, multicallBody([{ methodName: "system.multicall", params: [] }])),
    );
    assert.ok(nested.ok);
    assert.equal(((nested.value as unknown[])[0] as Fault).faultCode, -32600);
  } finally {
    await server.close();
  }
});

/** Waits (by polling on timers) until `what` holds. */
async function until(what: () => boolean, label: string, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const protocol of ["xmlrpc", "jsonrpc"] as const) {
  Deno.test(`other callers are answered while a long ${protocol} request of many calls runs`, async () => {
    const { server, state, url } = await serve();
    try {
      const n = 1000;
      const long = protocol === "xmlrpc"
        ? post(
          url,
          multicallBody(Array.from({ length: n }, () => ({
            methodName: "Probe.spin",
            params: [2],
          }))),
        )
        : fetch(`${url}/rpc`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(
            Array.from({ length: n }, (_, id) => ({
              jsonrpc: "2.0",
              id,
              method: "Probe.spin",
              params: [2],
            })),
          ),
        }).then((r) => r.text());
      // Without turns of the event loop between its calls, this poll would first run when
      // every call of the long request had.
      await until(() => state.spins > 0, "the long request to start");
      const other = await post(url, methodCall("Probe.add", [2, 3]));
      const spinsWhenAnswered = state.spins;
      assert.match(other, /<int>5<\/int>/);
      assert.ok(
        spinsWhenAnswered < n,
        `another caller waited for all ${n} calls of the long request`,
      );
      await long;
      assert.equal(state.spins, n);
    } finally {
      await server.close();
    }
  });
}

const RUBY_SCRIPT = `
require "json"
require "xmlrpc/client"
server = XMLRPC::Client.new2(ARGV[0])
out = {}
def fault_of(e) = [e.faultCode, e.faultString]
begin
  server.call("Probe.fail", "kaput")
rescue XMLRPC::FaultException => e
  out["alone"] = fault_of(e)
end
results = server.multicall(["Probe.add", 2, 3], ["Probe.fail", "kaput"])
out["entries"] = results.map { |r| r.is_a?(XMLRPC::FaultException) ? fault_of(r) : r }
begin
  server.multicall(*Array.new(5000) { ["Probe.tick"] })
  out["over"] = "answered"
rescue XMLRPC::FaultException => e
  out["over"] = fault_of(e)
end
puts JSON.generate(out)
`;

Deno.test({
  name: "Ruby's XMLRPC::Client#multicall: entry faults as alone, 5,000 calls refused by name",
  ignore: await ignoreUnless(peers.rubyXmlrpc),
  fn: async () => {
    const { server, state, url } = await serve();
    try {
      const result = await new Deno.Command(RUBY, {
        args: ["-e", RUBY_SCRIPT, `${url}/RPC2`],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assert.ok(result.success, `ruby failed: ${stderr}`);
      const out = JSON.parse(new TextDecoder().decode(result.stdout));
      assert.deepEqual(out.alone, [-32000, "Boom: kaput"]);
      assert.deepEqual(out.entries, [5, out.alone]);
      assert.equal(out.over[0], -32600);
      assert.match(out.over[1], /exceeds the limit of 1000 calls per request \(maxBatch\)/);
      assert.equal(state.ticks, 0);
    } finally {
      await server.close();
    }
  },
});

Deno.test("switchboard serve: --max-batch and --max-response bound multicalls and batches", async () => {
  const serve = await startServe(["--tcp", "off", "--max-batch", "10", "--max-response", "65536"]);
  try {
    const tick = { methodName: "Calculator.add", params: [1, 2] };
    const eleven = await fault(serve.http!, multicallBody(Array(11).fill(tick)));
    assert.match(eleven.faultString, /of 11 calls exceeds the limit of 10 calls per request/);
    assert.ok(readMethodResponse(await post(serve.http!, multicallBody(Array(10).fill(tick)))).ok);
    const discover = { methodName: "rpc.discover", params: [] };
    const bomb = await fault(serve.http!, multicallBody(Array(10).fill(discover)));
    assert.match(bomb.faultString, /exceeds the limit of 65536 bytes \(maxResponseBytes\)/);
    const batch = await fetch(`${serve.http}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(
        Array.from({ length: 10 }, (_, id) => ({ jsonrpc: "2.0", id, method: "rpc.discover" })),
      ),
    });
    assert.match((await batch.json()).error.message, /exceeds the limit of 65536 bytes/);
  } finally {
    await serve.stop();
  }
});

Deno.test("switchboard serve: eight 1 MiB multicalls of rpc.discover at once stay small", async () => {
  const serve = await startServe(["--tcp", "off"]);
  try {
    const discover = { methodName: "rpc.discover", params: [] };
    const before = await serve.rss();
    // The body limit's worth of entries (refused by count), and the batch limit's (by size).
    const whole = multicallBody(Array(5500).fill(discover));
    assert.ok(whole.length <= 1024 * 1024);
    const atLimit = multicallBody(Array(1000).fill(discover));
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post(serve.http!, i % 2 ? whole : atLimit)),
    );
    for (const text of answers) {
      assert.ok(text.length < 4096, `a refusal, not an answer of ${text.length} characters`);
      assert.match(text, /exceeds the limit of/);
    }
    const grown = (await serve.rss()) - before;
    assert.ok(grown < 512 * 1024 * 1024, `the server grew by ${grown} bytes`);
    // And it still answers.
    assert.match(await post(serve.http!, methodCall("Calculator.add", [2, 3])), /<int>5<\/int>/);
  } finally {
    await serve.stop();
  }
});
