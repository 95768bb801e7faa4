// The accept loop: a failed accept while the listener is open is transient (the loop pauses
// and accepts again, saying why), and close() ends it even while it is paused.

import assert from "node:assert/strict";
import { acceptLoop } from "../../../src/adapters/deno/accept.ts";

/** A listener whose first accepts fail, then hands out real connections of `inner`. */
function flakyListener(inner: Deno.TcpListener, failures: number): Deno.TcpListener {
  let failed = 0;
  return new Proxy(inner, {
    get(target, key) {
      if (key === "accept") {
        return () => {
          if (failed++ < failures) return Promise.reject(new Error("Too many open files"));
          return target.accept();
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("accept: failed accepts are retried with a logged pause, then connections flow", async () => {
  const inner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const errors: string[] = [];
  const accepted: Deno.Conn[] = [];
  const loop = acceptLoop(
    flakyListener(inner, 2),
    (conn) => accepted.push(conn),
    (e) => errors.push(e),
  );
  const client = await Deno.connect({ hostname: "127.0.0.1", port: inner.addr.port });
  for (let i = 0; i < 200 && accepted.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(accepted.length, 1, "the connection was handed on after the failures");
  assert.equal(errors.length, 2);
  assert.match(
    errors[0],
    /accept on 127\.0\.0\.1:\d+ failed \(Too many open files\); retrying in \d+ ms/,
  );
  client.close();
  accepted[0].close();
  await loop.close();
});

Deno.test("accept: close() ends a loop that is pausing after a failure, at once", async () => {
  const inner = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const errors: string[] = [];
  const loop = acceptLoop(flakyListener(inner, 1_000), () => {}, (e) => errors.push(e));
  for (let i = 0; i < 200 && errors.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(errors.length >= 3, "failures keep being retried");
  const started = performance.now();
  await loop.close();
  assert.ok(performance.now() - started < 1_000, "close did not wait out the pause");
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: inner.addr.port }),
    "the listener is closed",
  );
});
