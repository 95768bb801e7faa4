// A deployment whose internal and front listeners serve TLS from certificate files named
// in the deployment file: processes dial each other over https:// and tls://, trusting
// the CA the file names.

import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { makeCerts, SKIP_TLS } from "../fixtures/tls_certs.ts";
import { deploy, materialize } from "./helpers.ts";

const SHOP = new URL("../../examples/shop/deploy/three_processes.json", import.meta.url);

Deno.test({
  name: "deploy tls: internal (http, tcp) and front listeners over TLS, end to end",
  ignore: SKIP_TLS,
  fn: async () => {
    const certs = await makeCerts();
    const tls = { cert: certs.files.cert, key: certs.files.key, ca: certs.files.ca };
    const file = await materialize(SHOP, (value) => {
      const p = value.processes as Record<string, { listen?: object[]; front?: object[] }>;
      p.catalog.listen = p.catalog.listen!.map((l) => ({ ...l, tls }));
      p.orders.listen = p.orders.listen!.map((l) => ({ ...l, tls }));
      p.front.front = [{ ...p.front.front![0], tls }];
    });
    const running = deploy([file.path]);
    const front = connect(`https://127.0.0.1:${file.port(7300)}`, {
      caCerts: [certs.ca],
      timeout: 20_000,
    });
    try {
      const status = await running.ready();
      assert.equal(status.routes.Catalog[0].url, `tls://127.0.0.1:${file.port(7311)}`);
      assert.equal(status.routes.Cart[0].url, `https://127.0.0.1:${file.port(7312)}`);
      // front → orders (https) → catalog (tls)
      assert.deepEqual(await front.call("Cart.add", { cart: "t", sku: "pear", qty: 1 }), [
        { sku: "pear", qty: 1, price: 45 },
      ]);
      // Plain HTTP to the internal HTTPS listener gets no answer.
      await assert.rejects(
        fetch(`http://127.0.0.1:${file.port(7312)}/healthz`, { signal: AbortSignal.timeout(5000) }),
      );
      const check = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, "deploy"]
          .concat(["--check", file.path]),
      }).output();
      // Ports are taken by the running deployment: --check names them (and only them).
      assert.match(new TextDecoder().decode(check.stderr), /is in use by another program/);
    } finally {
      await front.close();
      assert.equal(await running.stop(), 0, running.lines.join("\n"));
      await certs.remove();
      await Deno.remove(file.dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "deploy tls: an unreadable key file is a problem with its JSON path; nothing starts",
  ignore: SKIP_TLS,
  fn: async () => {
    const file = await materialize(SHOP, (value) => {
      const p = value.processes as Record<string, { listen?: object[] }>;
      p.orders.listen = p.orders.listen!.map((l) => ({
        ...l,
        tls: { cert: "missing-cert.pem", key: "missing-key.pem" },
      }));
    });
    try {
      const run = deploy([file.path]);
      assert.equal(await run.exited, 1);
      const out = run.lines.join("\n");
      assert.match(
        out,
        /\$\.processes\.orders\.listen\[0\]\.tls\.cert: cannot read .*missing-cert\.pem/,
      );
      assert.match(
        out,
        /\$\.processes\.orders\.listen\[0\]\.tls\.key: cannot read .*missing-key\.pem/,
      );
      assert.match(out, /nothing was started/);
    } finally {
      await Deno.remove(file.dir, { recursive: true });
    }
  },
});
