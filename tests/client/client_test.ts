// The transport-agnostic Client: timeouts, cancellation, batches (native and emulated),
// notifications and remote errors, over the in-process transport and a scripted one.

import assert from "node:assert/strict";
import {
  Client,
  defineInterface,
  implement,
  method,
  type Outcome,
  type OutgoingCall,
  RpcError,
  t,
  type Transport,
} from "../../mod.ts";
import { LocalTransport, type Logger, Router } from "../../server.ts";

const quiet: Logger = { error: () => {}, warn: () => {} };

const Tools = defineInterface("Tools", {
  sleep: method({ params: { ms: t.int }, result: t.string }),
  add: method({ params: { a: t.int, b: t.int }, result: t.int }),
  fail: method({ params: { name: t.string } }),
  note: method({ params: { text: t.string } }),
});

function localClient(options: { timeout?: number } = {}) {
  const notes: string[] = [];
  const aborted: unknown[] = [];
  const router = new Router({ logger: quiet });
  router.register(implement(Tools, {
    sleep: ({ ms }, ctx) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve("slept"), ms);
        ctx.signal.addEventListener("abort", () => {
          aborted.push(ctx.signal.reason);
          clearTimeout(timer);
          resolve("woken");
        }, { once: true });
      }),
    add: ({ a, b }) => a + b,
    fail: ({ name }) => {
      throw new RpcError({ name, message: `${name} happened`, data: { why: [1, 2] } });
    },
    note: ({ text }) => void notes.push(text),
  }));
  return { client: new Client(new LocalTransport(router), options), notes, aborted };
}

Deno.test("call resolves with the result; remote errors reject as RpcError with every field", async () => {
  const { client } = localClient();
  assert.equal(await client.call("Tools.add", { a: 1, b: 2 }), 3);
  assert.equal(await client.call("Tools.add", [4, 5]), 9);
  const error = await client.call("Tools.fail", ["Conflict"]).then(
    () => assert.fail("no error"),
    (e) => e,
  );
  assert.ok(error instanceof RpcError);
  assert.ok(error instanceof Error);
  assert.equal(error.code, -32000);
  assert.equal(error.name, "Conflict");
  assert.equal(error.message, "Conflict happened");
  assert.deepEqual(error.data, { why: [1, 2] });
  await assert.rejects(client.call("Tools.add", { a: "x", b: 1 }), {
    name: "InvalidParams",
    code: -32602,
    message: 'params.a: expected int, got "x"',
  });
  await assert.rejects(client.call("Nope.nope"), { name: "MethodNotFound", code: -32601 });
  await client.close();
});

Deno.test("a timeout rejects with Timeout and the server side sees its deadline", async () => {
  const { client, aborted } = localClient();
  const started = Date.now();
  await assert.rejects(client.call("Tools.sleep", [10_000], { timeout: 50 }), {
    name: "Timeout",
    code: -32003,
  });
  assert.ok(Date.now() - started < 5_000);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(aborted.length, 1); // the handler was told to stop
  // The client-wide default applies when a call gives none.
  const strict = localClient({ timeout: 30 });
  await assert.rejects(strict.client.call("Tools.sleep", [10_000]), { name: "Timeout" });
  // timeout 0 means none.
  assert.equal(await strict.client.call("Tools.sleep", [60], { timeout: 0 }), "slept");
  await client.close();
});

Deno.test("an AbortSignal cancels the wait; an aborted one refuses at once", async () => {
  const { client, aborted } = localClient();
  const controller = new AbortController();
  const pending = client.call("Tools.sleep", [10_000], { signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(pending, { name: "Cancelled", code: -32006 });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(aborted.length, 1);
  await assert.rejects(client.call("Tools.add", [1, 2], { signal: AbortSignal.abort() }), {
    name: "Cancelled",
  });
  // A signal that never fires does not disturb the call.
  assert.equal(await client.call("Tools.add", [1, 2], { signal: new AbortController().signal }), 3);
  await client.close();
});

Deno.test("notify sends and forgets; the handler runs", async () => {
  const { client, notes } = localClient();
  assert.equal(await client.notify("Tools.note", { text: "hi" }), undefined);
  await client.notify("Tools.fail", ["Ignored"]); // errors never come back
  await client.notify("Nope.nope");
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(notes, ["hi"]);
  await client.close();
});

Deno.test("batch without native support settles each call in order", async () => {
  const { client, notes } = localClient();
  const results = await client.batch([
    { method: "Tools.add", params: [1, 2] },
    { method: "Tools.fail", params: ["Boom"] },
    { method: "Tools.note", params: ["n"], notification: true },
    { method: "Tools.sleep", params: [10_000] },
  ], { timeout: 50 });
  assert.deepEqual(results[0], { ok: true, value: 3 });
  assert.equal(results[1].ok, false);
  assert.equal(!results[1].ok && results[1].error.name, "Boom");
  assert.deepEqual(results[2], { ok: true, value: undefined });
  assert.equal(!results[3].ok && results[3].error.name, "Timeout");
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(notes, ["n"]);
  assert.deepEqual(await client.batch([]), []);
  await client.close();
});

/** A transport whose calls never answer, recording what it was given. */
class Silent implements Transport {
  calls: OutgoingCall[] = [];
  closed = false;
  call(request: OutgoingCall): Promise<Outcome> {
    this.calls.push(request);
    return new Promise(() => {});
  }
  notify(request: OutgoingCall): Promise<void> {
    this.calls.push(request);
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

Deno.test("any transport plugs in: the client passes deadline and signal, and stops waiting", async () => {
  const transport = new Silent();
  const client = new Client(transport);
  assert.equal(client.transport, transport);
  const before = Date.now();
  await assert.rejects(client.call("X.y", { a: 1 }, { timeout: 30 }), {
    name: "Timeout",
    message: "X.y timed out after 30 ms",
  });
  const [sent] = transport.calls;
  assert.equal(sent.method, "X.y");
  assert.deepEqual(sent.params, { a: 1 });
  assert.ok(sent.deadline! >= before + 30 && sent.deadline! <= Date.now() + 30);
  assert.ok(sent.signal?.aborted, "the transport's signal fires on timeout");
  assert.ok(sent.signal?.reason instanceof RpcError);
  // An absurd timeout cannot overflow the timer into an immediate timeout.
  const forever = client.call("X.y", {}, { timeout: 1e12, signal: AbortSignal.timeout(30) });
  await assert.rejects(forever, { name: "Cancelled" });
  await client.close();
  assert.ok(transport.closed);
});

Deno.test("register needs a bidirectional transport", () => {
  const client = new Client(new Silent());
  assert.throws(
    () =>
      client.register(
        implement(Tools, { sleep: () => "", add: () => 0, fail: () => {}, note: () => {} }),
      ),
    /cannot serve calls from the server/,
  );
});
