// The secret never travels: a real three-process deployment whose internal traffic is
// routed through recording relays; every byte in both directions is searched for the
// secret in every form it could be written in.

import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { childSpecs } from "../../src/cli/deploy.ts";
import { randomToken } from "../../src/core/random_token.ts";
import { READY_MARKER } from "../../src/deploy/env.ts";
import { planDeployment } from "../../src/deploy/plan.ts";
import { Supervisor } from "../../src/deploy/supervisor.ts";
import { decodeBase64, encodeBase64 } from "../../src/core/base64.ts";
import { MAIN, materialize } from "./helpers.ts";
import { relay } from "./relay.ts";

const SHOP = new URL("../../examples/shop/deploy/three_processes.json", import.meta.url);
const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("deploy: processes prove the secret to each other, and it never appears on the wire", async () => {
  // Relays sit where the file says the catalog (tcp) and orders (http) are reached.
  const file = await materialize(SHOP);
  const catalogRelay = relay(file.port(7311));
  const ordersRelay = relay(file.port(7312));
  const processes = file.value.processes as Record<string, { listen: Record<string, string>[] }>;
  processes.catalog.listen[0].advertise = `127.0.0.1:${catalogRelay.port}`;
  processes.orders.listen[0].advertise = `127.0.0.1:${ordersRelay.port}`;
  const plan = await planDeployment(file.value, new URL(`file://${file.path}`));
  assert.equal(plan.routes.Catalog[0].url, `tcp://127.0.0.1:${catalogRelay.port}`);
  assert.equal(plan.routes.Cart[0].url, `http://127.0.0.1:${ordersRelay.port}`);

  const secret = randomToken();
  const lines: string[] = [];
  const supervisor = new Supervisor(
    childSpecs(plan, secret, { command: Deno.execPath(), args: ["run", "-A", MAIN] }),
    { log: (line) => void lines.push(line), isReady: (line) => line.startsWith(READY_MARKER) },
  );
  supervisor.start();
  const front = connect(`http://127.0.0.1:${file.port(7300)}`, { timeout: 20_000 });
  try {
    await supervisor.ready();
    // Front → orders (http, via relay) → catalog (tcp, via relay), and front → catalog.
    assert.deepEqual(await front.call("Cart.add", { cart: "w", sku: "pear", qty: 1 }), [
      { sku: "pear", qty: 1, price: 45 },
    ]);
    const order = await front.call("Orders.checkout", { cart: "w" }) as { total: number };
    assert.equal(order.total, 45);
    const list = await front.call("Catalog.list") as { sku: string; stock: number }[];
    assert.equal(list.find((p) => p.sku === "pear")!.stock, 3);
  } finally {
    await front.close();
    await supervisor.stop();
    await catalogRelay.close();
    await ordersRelay.close();
    await Deno.remove(file.dir, { recursive: true });
  }
  assert.deepEqual(await supervisor.finished, { ok: true }, lines.join("\n"));

  const traffic = [
    catalogRelay.upstream(),
    catalogRelay.downstream(),
    ordersRelay.upstream(),
    ordersRelay.downstream(),
  ];
  // The relays really carried the deployment's calls, logins included.
  for (const bytes of traffic) assert.ok(bytes.length > 0);
  assert.ok(
    contains(traffic[0], encoder.encode("$/auth.login")),
    "tcp login went through the relay",
  );
  assert.ok(
    contains(traffic[2], encoder.encode("$/auth.login")),
    "http login went through the relay",
  );
  assert.ok(contains(traffic[0], encoder.encode("Catalog.reserve")));
  assert.ok(contains(traffic[2], encoder.encode("Orders.checkout")));

  const raw = decodeBase64(secret.replaceAll("-", "+").replaceAll("_", "/") + "=");
  const forms = [
    secret,
    encodeBase64(encoder.encode(secret)),
    hex(encoder.encode(secret)),
    encodeBase64(raw),
    hex(raw),
  ];
  for (const bytes of traffic) {
    const text = new TextDecoder("latin1").decode(bytes);
    for (const form of forms) {
      assert.ok(!text.includes(form), `the secret (as ${form}) went over the wire`);
    }
    assert.ok(!contains(bytes, raw), "the secret's raw bytes went over the wire");
  }
});
