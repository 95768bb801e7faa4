// The body deadline of an HTTP listener: reads that finish in time pass through, slow ones
// lose to TOO_SLOW once (and only once), and slots are reused without mixing reads up.

import assert from "node:assert/strict";
import { BodyDeadline, TOO_SLOW } from "../../src/server/http_request.ts";

const later = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

Deno.test("body deadline: reads in time pass their value or error through", async () => {
  const deadline = new BodyDeadline(200);
  assert.equal(await deadline.race(Promise.resolve("body")), "body");
  await assert.rejects(deadline.race(Promise.reject(new Error("reset"))), /reset/);
  // Many at once, resolved out of order, each gets its own value.
  const values = await Promise.all(
    Array.from({ length: 50 }, (_, i) => deadline.race(later(50 - i, i))),
  );
  assert.deepEqual(values, Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("body deadline: a slow read loses, a later read in the reused slot does not", async () => {
  const deadline = new BodyDeadline(40); // swept every 10 ms: cut between 40 and 50 ms
  const started = performance.now();
  const slow = deadline.race(later(400, "too late"));
  assert.equal(await slow, TOO_SLOW);
  const waited = performance.now() - started;
  assert.ok(waited >= 40 && waited < 300, `cut after ${waited} ms`);
  // The expired slot is free again; the slow read finishing later must not free the new one.
  const quick = deadline.race(later(5, "in time"));
  const second = deadline.race(later(200, "slow again"));
  assert.equal(await quick, "in time");
  assert.equal(await second, TOO_SLOW);
  await later(250, undefined); // the first slow read settles now, after its slot was reused
});

Deno.test("body deadline: read maps the value, the error, or the expiry, and a throw rejects", async () => {
  const deadline = new BodyDeadline(40);
  const read = (reading: Promise<string>) =>
    deadline.read(
      reading,
      (v) => `done ${v}`,
      (e) => `failed ${(e as Error).message}`,
      () => "slow",
    );
  assert.equal(await read(Promise.resolve("a")), "done a");
  assert.equal(await read(Promise.reject(new Error("b"))), "failed b");
  assert.equal(await read(later(300, "c")), "slow");
  await assert.rejects(
    deadline.read(
      Promise.resolve(1),
      () => {
        throw new Error("from done");
      },
      () => 0,
      () => 0,
    ),
    /from done/,
  );
  await later(300, undefined);
});
