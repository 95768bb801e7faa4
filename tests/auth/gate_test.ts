import assert from "node:assert/strict";
import { type AuthBackend, AuthGate, type Proof } from "../../server.ts";

/** A scheme whose verification takes a while (like a slow password hash). */
function slowBackend(counter: { calls: number; running: number; peak: number }): AuthBackend {
  return {
    scheme: "slow",
    async verify(proof: Proof) {
      counter.calls++;
      counter.running++;
      counter.peak = Math.max(counter.peak, counter.running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      counter.running--;
      return proof.ok === true ? { id: String(proof.id) } : undefined;
    },
  };
}

Deno.test("parallel wrong guesses from one peer get no more tries than sequential ones", async () => {
  const counter = { calls: 0, running: 0, peak: 0 };
  const gate = new AuthGate([slowBackend(counter)], { maxFailures: 3 });
  const outcomes = await Promise.allSettled(
    Array.from({ length: 20 }, () => gate.login("10.0.0.66", "n", "slow", { ok: false })),
  );
  const messages = outcomes.map((o) => o.status === "rejected" ? String(o.reason.message) : "ok");
  assert.equal(messages.filter((m) => m === "login refused (slow)").length, 3);
  assert.equal(
    messages.filter((m) => /^too many failed logins from 10\.0\.0\.66/.test(m)).length,
    17,
  );
  assert.equal(counter.calls, 3);
});

Deno.test("many parallel good logins from one peer all succeed", async () => {
  const counter = { calls: 0, running: 0, peak: 0 };
  const gate = new AuthGate([slowBackend(counter)], { maxFailures: 2 });
  const ids = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) => gate.login("127.0.0.1", "n", "slow", { ok: true, id: `${i}` }),
    ),
  );
  assert.deepEqual(ids.map((who) => who.id), Array.from({ length: 20 }, (_, i) => String(i)));
  assert.equal(counter.calls, 20);
});

Deno.test("failures are forgotten after the window", async () => {
  const counter = { calls: 0, running: 0, peak: 0 };
  const gate = new AuthGate([slowBackend(counter)], { maxFailures: 1, window: 30, backoff: 20 });
  await assert.rejects(gate.login("p", "n", "slow", { ok: false }), /login refused/);
  await assert.rejects(gate.login("p", "n", "slow", { ok: true, id: 1 }), /retry in 1 s/);
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal((await gate.login("p", "n", "slow", { ok: true, id: 1 })).id, "1");
});
