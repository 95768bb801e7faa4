import assert from "node:assert/strict";
import { connect, defineInterface, type Identity, implement, method, t } from "../../../mod.ts";
import { Router, Server } from "../../../server.ts";

const Vault = defineInterface("Vault", {
  whoami: method({ result: t.string }),
  balance: method({ params: { account: t.string }, result: t.int }),
  shutdown: method({ result: t.string }),
});

const alice: Identity = { id: "alice", roles: ["admin"] };
const bob: Identity = { id: "bob", roles: ["user"] };

/** A default implementation (denies shutdown) and an admin-domain one. */
function vaultRouter(): Router {
  const router = new Router();
  router.register(implement(Vault, {
    whoami: (_, ctx) => `user ${ctx.caller?.id ?? "anonymous"}`,
    balance: () => 10,
    shutdown: () => "must never run",
  }, { deny: ["shutdown"] }));
  router.register(implement(Vault, {
    whoami: (_, ctx) => `admin ${ctx.caller?.id}`,
    balance: () => 1_000_000,
    shutdown: () => "shutting down",
  }, { domain: "admin" }));
  return router;
}

Deno.test("a domain implementation answers callers holding its role, the default others", async () => {
  const router = vaultRouter();
  assert.deepEqual(await router.dispatch({ method: "Vault.whoami", caller: alice }), {
    ok: true,
    value: "admin alice",
    plain: true,
  });
  assert.deepEqual(await router.dispatch({ method: "Vault.whoami", caller: bob }), {
    ok: true,
    value: "user bob",
    plain: true,
  });
  const anonymous = await router.dispatch({ method: "Vault.whoami" });
  assert.deepEqual(anonymous, { ok: true, value: "user anonymous", plain: true });
  // Unqualified names (single-interface server) resolve to the caller's domain too.
  const short = await router.dispatch({ method: "balance", params: ["x"], caller: alice });
  assert.deepEqual(short, { ok: true, value: 1_000_000, plain: true });
});

Deno.test("a denied method is Forbidden to an identified caller, Unauthorized to an anonymous one", async () => {
  const router = vaultRouter();
  const forbidden = await router.dispatch({ method: "Vault.shutdown", caller: bob });
  assert.equal(forbidden.ok, false);
  assert.ok(!forbidden.ok);
  assert.equal(forbidden.error.code, -32002);
  assert.equal(forbidden.error.name, "Forbidden");
  assert.match(forbidden.error.message, /bob may not call Vault\.shutdown/);

  const anonymous = await router.dispatch({ method: "Vault.shutdown" });
  assert.ok(!anonymous.ok);
  assert.equal(anonymous.error.code, -32001);
  assert.equal(anonymous.error.name, "Unauthorized");

  // The admin domain serves what the default implementation denies.
  const admin = await router.dispatch({ method: "Vault.shutdown", caller: alice });
  assert.deepEqual(admin, { ok: true, value: "shutting down", plain: true });
});

Deno.test("allow predicates see the caller and the full method name", async () => {
  const seen: string[] = [];
  const router = new Router();
  router.register(implement(Vault, {
    whoami: () => "ok",
    balance: ({ account }) => account.length,
    shutdown: () => "down",
  }, {
    allow: (caller, name) => {
      seen.push(`${caller?.id ?? "-"} ${name}`);
      return caller !== undefined && (name !== "Vault.shutdown" || caller.id === "alice");
    },
  }));
  assert.deepEqual(await router.dispatch({ method: "Vault.shutdown", caller: alice }), {
    ok: true,
    value: "down",
    plain: true,
  });
  const refused = await router.dispatch({ method: "Vault.shutdown", caller: bob });
  assert.ok(!refused.ok);
  assert.equal(refused.error.name, "Forbidden");
  const anonymous = await router.dispatch({ method: "Vault.whoami" });
  assert.ok(!anonymous.ok);
  assert.equal(anonymous.error.name, "Unauthorized");
  assert.deepEqual(seen, ["alice Vault.shutdown", "bob Vault.shutdown", "- Vault.whoami"]);
});

Deno.test("authorization is decided before params are validated or a handler runs", async () => {
  let ran = 0;
  const router = new Router();
  router.register(implement(Vault, {
    whoami: () => String(++ran),
    balance: () => ++ran,
    shutdown: () => String(++ran),
  }, { allow: (caller) => caller?.id === "alice" }));
  // Bad params from a refused caller: the caller learns only that it is refused.
  const outcome = await router.dispatch({
    method: "Vault.balance",
    params: { nope: 1 },
    caller: bob,
  });
  assert.ok(!outcome.ok);
  assert.equal(outcome.error.name, "Forbidden");
  assert.equal(ran, 0);
});

Deno.test("deny must name methods of the interface", () => {
  assert.throws(
    () =>
      implement(Vault, { whoami: () => "", balance: () => 0, shutdown: () => "" }, {
        deny: ["reboot"],
      }),
    /cannot deny Vault\.reboot/,
  );
});

Deno.test("Forbidden and Unauthorized reach an HTTP client as distinct typed errors", async () => {
  const server = new Server();
  server.register(implement(Vault, {
    whoami: (_, ctx) => ctx.caller?.id ?? "anonymous",
    balance: () => 0,
    shutdown: () => "down",
  }, { deny: ["shutdown"] }));
  const users: Record<string, Identity> = { "token-bob": bob };
  const http = await server.listenHttp({ port: 0 }, {
    authenticate: (request) => users[request.headers.get("x-token") ?? ""],
  });
  const asBob = connect(http.url, { headers: { "x-token": "token-bob" } });
  const anonymous = connect(http.url);
  try {
    assert.equal(await asBob.call("Vault.whoami"), "bob");
    await assert.rejects(asBob.call("Vault.shutdown"), { name: "Forbidden", code: -32002 });
    await assert.rejects(anonymous.call("Vault.shutdown"), {
      name: "Unauthorized",
      code: -32001,
    });
  } finally {
    await asBob.close();
    await anonymous.close();
    await server.close();
  }
});
