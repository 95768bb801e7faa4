// The body deadline of an HTTP listener: reads that finish in time pass through, slow ones
// lose to TOO_SLOW once (and only once), and slots are reused without mixing reads up.

import assert from "node:assert/strict";
import { BodyDeadline, type ReadAnswers, TOO_SLOW } from "../../src/server/http_request.ts";

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

Deno.test("body deadline: read answers the value, the error, the expiry, or a throw", async () => {
  const deadline = new BodyDeadline(40);
  const answers: ReadAnswers<string, string, string> = {
    done: (context, v) => {
      if (v === "throw") throw new Error("from done");
      if (v === "later") return Promise.reject(new Error("from a later answer"));
      return `${context}: done ${v}`;
    },
    failed: (context, e) => `${context}: failed ${(e as Error).message}`,
    slow: (context) => `${context}: slow`,
    threw: (context, e) => {
      if ((e as Error).message === "fatal") throw e;
      return `${context}: threw ${(e as Error).message}`;
    },
  };
  const read = (reading: Promise<string>) => deadline.read(reading, "r", answers);
  assert.equal(await read(Promise.resolve("a")), "r: done a");
  assert.equal(await read(Promise.reject(new Error("b"))), "r: failed b");
  assert.equal(await read(later(300, "c")), "r: slow");
  assert.equal(await read(Promise.resolve("throw")), "r: threw from done");
  assert.equal(await read(Promise.resolve("later")), "r: threw from a later answer");
  // Only a throwing `threw` rejects.
  await assert.rejects(
    deadline.read(Promise.resolve("x"), "r", {
      ...answers,
      done: () => {
        throw new Error("fatal");
      },
    }),
    /fatal/,
  );
  await later(300, undefined);
});
