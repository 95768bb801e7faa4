import assert from "node:assert/strict";
import {
  AuthGate,
  bearerBackend,
  MAX_PASSWORD_FIELD,
  MAX_TOKEN_LENGTH,
  passwordBackend,
  sharedSecretBackend,
} from "../../server.ts";
import { bearerCredentials, passwordCredentials, sharedSecretCredentials } from "../../mod.ts";

Deno.test("the shared secret proof is bound to the nonce and the claimed id", async () => {
  const gate = new AuthGate([sharedSecretBackend("s3cret", { roles: ["peer"] })], {
    maxFailures: 100,
  });
  const { nonce, schemes } = gate.hello();
  assert.deepEqual(schemes, ["secret"]);
  const proof = await sharedSecretCredentials("s3cret", "worker").prove(nonce);
  assert.deepEqual(await gate.login("p", nonce, "secret", proof), {
    id: "worker",
    roles: ["peer"],
  });
  // Another nonce, another claimed id, another secret: all refused.
  await assert.rejects(gate.login("p", gate.hello().nonce, "secret", proof), /login refused/);
  await assert.rejects(gate.login("p", nonce, "secret", { ...proof, id: "admin" }), /refused/);
  const wrong = await sharedSecretCredentials("guess", "worker").prove(nonce);
  await assert.rejects(gate.login("p", nonce, "secret", wrong), /login refused \(secret\)/);
  assert.throws(() => sharedSecretBackend(""), /must not be empty/);
});

Deno.test("the password scheme asks the user's check, which may be async or throw", async () => {
  const seen: string[] = [];
  const gate = new AuthGate([
    passwordBackend(async (user, password) => {
      seen.push(user);
      await Promise.resolve();
      if (user === "crash") throw new Error("database down");
      return password === `${user}-pw` ? { id: user, roles: ["user"] } : undefined;
    }),
  ], { maxFailures: 100 });
  const { nonce } = gate.hello();
  const login = async (user: string, password: string) =>
    gate.login("p", nonce, "password", await passwordCredentials(user, password).prove(nonce));
  assert.deepEqual(await login("carol", "carol-pw"), { id: "carol", roles: ["user"] });
  await assert.rejects(login("carol", "nope"), { name: "Unauthorized" });
  await assert.rejects(login("crash", "crash-pw"), /login refused \(password\)/);
  // Malformed or oversized proofs never reach the check.
  await assert.rejects(gate.login("p", nonce, "password", { user: "carol" }), /refused/);
  await assert.rejects(login("", "-pw"), /refused/);
  await assert.rejects(login("carol", "x".repeat(MAX_PASSWORD_FIELD + 1)), /refused/);
  assert.deepEqual(seen, ["carol", "carol", "crash"]);
});

Deno.test("the bearer scheme asks the user's check with the token", async () => {
  const gate = new AuthGate(
    [bearerBackend((token) => token === "t1" ? { id: "bot" } : undefined)],
    {
      maxFailures: 100,
    },
  );
  const { nonce } = gate.hello();
  assert.deepEqual(
    await gate.login("p", nonce, "bearer", await bearerCredentials("t1").prove(nonce)),
    {
      id: "bot",
    },
  );
  await assert.rejects(
    gate.login("p", nonce, "bearer", { token: "t2" }),
    /login refused \(bearer\)/,
  );
  await assert.rejects(gate.login("p", nonce, "bearer", { token: 5 }), /refused/);
  await assert.rejects(
    gate.login("p", nonce, "bearer", { token: "t".repeat(MAX_TOKEN_LENGTH + 1) }),
    /refused/,
  );
});

Deno.test("the gate names the schemes it accepts and throttles failures per peer and identity", async () => {
  const gate = new AuthGate([sharedSecretBackend("s"), bearerBackend(() => undefined)], {
    maxFailures: 2,
  });
  const { nonce } = gate.hello();
  await assert.rejects(gate.login("a", nonce, "kerberos", {}), {
    name: "Unauthorized",
    message: 'unknown auth scheme "kerberos"; this server accepts secret, bearer',
  });
  await assert.rejects(gate.login("a", nonce, "secret", "not an object"), /login refused/);
  await assert.rejects(gate.login("a", nonce, "secret", {}), /login refused/);
  await assert.rejects(gate.login("a", nonce, "secret", {}), /too many failed logins from a/);
  // Another identity from that peer is not held up, nor is another peer.
  const proof = await sharedSecretCredentials("s", "w1").prove(nonce);
  assert.equal((await gate.login("a", nonce, "secret", proof)).id, "w1");
  await assert.rejects(gate.login("b", nonce, "secret", { id: "w1" }), /login refused/);
  // A success clears its own record (w1 from b), and only that.
  assert.equal((await gate.login("b", nonce, "secret", proof)).id, "w1");
  await assert.rejects(gate.login("b", nonce, "secret", { id: "w1" }), /login refused/);
  await assert.rejects(gate.login("a", nonce, "secret", {}), /too many failed logins from a/);
  assert.notEqual(gate.hello().nonce, nonce);
});
