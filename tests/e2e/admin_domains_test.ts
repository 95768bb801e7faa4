/**
 * Authentication and authorization across every protocol: one router decides, so the
 * same method answers an admin and a normal user differently whether the call came as
 * JSON-RPC or XML-RPC over HTTP or as msgpack-rpc over TCP.
 */

import assert from "node:assert/strict";
import { AuthGate, httpAuthenticator, passwordBackend, Server } from "../../server.ts";
import {
  type Client,
  connect,
  defineInterface,
  type Identity,
  implement,
  method,
  passwordCredentials,
  t,
} from "../../mod.ts";
import "../../tcp.ts"; // connect() speaks tcp

const Accounts = defineInterface("Accounts", {
  listUsers: method({ result: t.array(t.string) }),
  deleteUser: method({ params: { name: t.string }, result: t.string }),
  print: method({ params: { job: t.int }, result: t.int, exclusive: true }),
});

const users: Record<string, { password: string; identity: Identity }> = {
  alice: { password: "wonderland", identity: { id: "alice", roles: ["admin"] } },
  bob: { password: "builder", identity: { id: "bob", roles: ["user"] } },
};

const PROTOCOLS = ["jsonrpc", "xmlrpc", "msgpack-rpc"] as const;
type Protocol = typeof PROTOCOLS[number];

interface Running {
  server: Server;
  client(protocol: Protocol, user?: string, password?: string): Client;
  printing: { running: number; peak: number; log: string[] };
}

async function start(): Promise<Running> {
  const printing = { running: 0, peak: 0, log: [] as string[] };
  const print = async ({ job }: { job: number }, ctx: { protocol: string }) => {
    printing.running++;
    printing.peak = Math.max(printing.peak, printing.running);
    printing.log.push(`start ${job} ${ctx.protocol}`);
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    printing.log.push(`end ${job}`);
    printing.running--;
    return job;
  };
  const server = new Server();
  server.register(
    implement(Accounts, {
      listUsers: (_, ctx) => [`${ctx.caller?.id} sees only themself (${ctx.protocol})`],
      deleteUser: () => "never",
      print,
    }, { deny: ["deleteUser"] }),
    implement(Accounts, {
      listUsers: (_, ctx) => [...Object.keys(users), `(admin view via ${ctx.protocol})`],
      deleteUser: ({ name }, ctx) => `${ctx.caller?.id} deleted ${name}`,
      print,
    }, { domain: "admin" }),
  );
  const gate = new AuthGate([
    passwordBackend((user, password) =>
      users[user]?.password === password ? users[user].identity : undefined
    ),
  ]);
  const http = await server.listenHttp({ port: 0 }, { authenticate: httpAuthenticator({ gate }) });
  const tcp = await server.listenTcp({ port: 0 }, { auth: gate });
  return {
    server,
    printing,
    client(protocol, user, password) {
      const auth = user ? passwordCredentials(user, password ?? users[user].password) : undefined;
      if (protocol === "msgpack-rpc") return connect(tcp.url, { auth, reconnect: false });
      return connect(http.url, { protocol, auth });
    },
  };
}

Deno.test("the same method answers an admin and a normal user differently on every protocol", async () => {
  const running = await start();
  const clients: Client[] = [];
  try {
    for (const protocol of PROTOCOLS) {
      const alice = running.client(protocol, "alice");
      const bob = running.client(protocol, "bob");
      clients.push(alice, bob);
      const wire = protocol === "msgpack-rpc" ? "msgpack-rpc" : protocol;
      assert.deepEqual(await alice.proxy(Accounts).listUsers(), [
        "alice",
        "bob",
        `(admin view via ${wire})`,
      ]);
      assert.deepEqual(await bob.proxy(Accounts).listUsers(), [
        `bob sees only themself (${wire})`,
      ]);
      assert.equal(
        await alice.proxy(Accounts).deleteUser({ name: "mallory" }),
        "alice deleted mallory",
      );
      await assert.rejects(
        bob.proxy(Accounts).deleteUser({ name: "alice" }),
        (error: Error & { code?: number }) => {
          assert.equal(error.code, -32002, `${protocol}: ${error.message}`);
          assert.match(error.message, /bob may not call Accounts\.deleteUser/);
          return true;
        },
      );
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await running.server.close();
  }
});

Deno.test("callers without a valid login are refused as Unauthorized on every protocol", async () => {
  const running = await start();
  const clients: Client[] = [];
  try {
    for (const protocol of PROTOCOLS) {
      for (const [user, password] of [[undefined, undefined], ["bob", "wrong"]]) {
        const client = running.client(protocol, user, password);
        clients.push(client);
        await assert.rejects(
          client.proxy(Accounts).listUsers(),
          (error: Error & { code?: number }) => {
            assert.equal(error.code, -32001, `${protocol} ${user}: ${error.message}`);
            assert.match(error.message, /Unauthorized|login|authenticat/i);
            return true;
          },
        );
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await running.server.close();
  }
});

Deno.test("an exclusive method called by 20 concurrent callers on three protocols runs one at a time", async () => {
  const running = await start();
  const clients = PROTOCOLS.map((p) => running.client(p, "bob"));
  try {
    const jobs = Array.from({ length: 20 }, (_, job) => job);
    const results = await Promise.all(
      jobs.map((job) => clients[job % 3].proxy(Accounts).print({ job })),
    );
    assert.deepEqual(results, jobs);
    const { log, peak } = running.printing;
    assert.equal(peak, 1);
    assert.equal(log.length, 40);
    for (let i = 0; i < 40; i += 2) {
      const job = log[i].split(" ")[1];
      assert.equal(log[i + 1], `end ${job}`);
    }
    // All three protocols took part.
    for (const protocol of PROTOCOLS) {
      assert.ok(log.some((l) => l.endsWith(` ${protocol}`)), protocol);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await running.server.close();
  }
});
