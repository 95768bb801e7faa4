// Login throttling over real HTTP: per (address, identity) and per identity, with backoff.
// Before: a success cleared its address's failures, so one valid account gave unlimited
// guesses at another (200 guesses in 0.6 s), and 5 failures locked out everyone behind
// the address.
import assert from "node:assert/strict";
import { AuthGate } from "../../src/auth/gate.ts";
import { httpAuthenticator } from "../../src/auth/http.ts";
import { passwordBackend, passwordCredentials } from "../../src/auth/password.ts";
import { backoffAfter } from "../../src/auth/throttle.ts";
import { connect } from "../../src/client/connect.ts";
import { Server } from "../../src/adapters/deno/server.ts";
import { defineInterface, implement, method, t } from "../../mod.ts";

const Whoami = defineInterface("Whoami", { whoami: method({ result: t.string }) });
const USERS: Record<string, string> = { alice: "wonderland", bob: "builder", mallory: "m4ll0ry" };

async function withServer(
  run: (url: string, checked: Record<string, number>) => Promise<void>,
): Promise<void> {
  const checked: Record<string, number> = {};
  const gate = new AuthGate([
    passwordBackend((user, password) => {
      checked[user] = (checked[user] ?? 0) + 1;
      return USERS[user] === password ? { id: user, roles: [] } : undefined;
    }),
  ]);
  const server = new Server();
  server.register(implement(Whoami, { whoami: (_, ctx) => ctx.caller?.id ?? "nobody" }));
  const http = await server.listenHttp({ port: 0 }, {
    authenticate: httpAuthenticator({ gate }),
  });
  try {
    await run(http.url, checked);
  } finally {
    await server.close();
  }
}

async function attempt(url: string, user: string, password: string): Promise<string> {
  const client = connect(url, { auth: passwordCredentials(user, password) });
  try {
    return String(await client.call("Whoami.whoami"));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.close();
  }
}

Deno.test("throttle: guesses at one account slow down; a valid account's logins clear nothing", async () => {
  await withServer(async (url, checked) => {
    // As fast as it can for 3 s, interleaving successful logins to its own account.
    const end = Date.now() + 3000;
    let tries = 0;
    const refusals = new Set<string>();
    while (Date.now() < end) {
      refusals.add((await attempt(url, "alice", `guess-${tries++}`)).replace(/\d+ s$/, "N s"));
      if (tries % 3 === 0) assert.equal(await attempt(url, "mallory", "m4ll0ry"), "mallory");
    }
    // 5 free guesses, then one after 1 s and one after 2 more: at most 7 reached the check.
    assert.ok(checked.alice <= 7, `${checked.alice} of ${tries} guesses reached the check`);
    assert.ok(tries > 20, `the attacker was not slowed by the transport (${tries} tries)`);
    assert.ok(
      refusals.has("Unauthorized: too many failed logins as alice from 127.0.0.1; retry in N s"),
      [...refusals].join("\n"),
    );
    // The schedule behind it: 200 guesses at one account from one address take hours.
    const policy = { free: 5, backoff: 1000, maxBackoff: 60_000, window: 900_000 };
    let total = 0;
    for (let n = 1; n < 200; n++) total += backoffAfter(n, policy);
    assert.ok(total / 1000 >= 3 * 3600, `200 guesses take ${total / 1000} s`);

    // Bob, behind the same address, logs in at once; so does mallory.
    const started = performance.now();
    assert.equal(await attempt(url, "bob", "builder"), "bob");
    assert.ok(performance.now() - started < 1000);
    assert.equal(await attempt(url, "mallory", "m4ll0ry"), "mallory");
  });
});

Deno.test("throttle: guesses at one account spread over many addresses slow down too", async () => {
  const checks: string[] = [];
  const gate = new AuthGate([
    passwordBackend((user, password) => {
      checks.push(user);
      return USERS[user] === password ? { id: user, roles: [] } : undefined;
    }),
  ]);
  const { nonce } = gate.hello();
  const refused: string[] = [];
  for (let i = 0; i < 40; i++) {
    try {
      await gate.login(`10.0.0.${i}`, nonce, "password", { user: "alice", password: `g${i}` });
    } catch (error) {
      refused.push((error as Error).message);
    }
  }
  // 20 free across all addresses, then the account waits: later guesses are not checked.
  assert.equal(checks.filter((u) => u === "alice").length, 20);
  assert.match(refused.at(-1)!, /too many failed logins as alice from 10\.0\.0\.39; retry in 1 s/);
  // Other accounts are untouched.
  const bob = await gate.login("10.0.0.1", nonce, "password", { user: "bob", password: "builder" });
  assert.equal(bob.id, "bob");
});

Deno.test("throttle: parallel guesses at one account gain nothing", async () => {
  await withServer(async (url, checked) => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => attempt(url, "alice", `parallel-${i}`)),
    );
    assert.ok(checked.alice <= 6, `${checked.alice} parallel guesses reached the check`);
    assert.ok(results.filter((r) => /too many failed logins/.test(r)).length >= 24);
  });
});
