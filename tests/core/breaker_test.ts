// The circuit breaker and the retry budget, on a clock of the test's own.
import assert from "node:assert/strict";
import { CircuitBreaker } from "../../src/core/breaker.ts";
import { RetryBudget } from "../../src/core/retry_budget.ts";

function clocked(options: ConstructorParameters<typeof CircuitBreaker>[0] = {}) {
  const clock = { now: 0 };
  return { clock, breaker: new CircuitBreaker({ ...options, now: () => clock.now }) };
}

Deno.test("breaker: opens on the failure ratio of the window, once it holds minCalls", () => {
  const { breaker } = clocked({ failureRatio: 0.5, minCalls: 10, consecutiveFailures: 100 });
  for (let i = 0; i < 4; i++) breaker.failure(), breaker.success();
  assert.equal(breaker.state, "closed", "8 calls: too few to judge");
  breaker.success();
  breaker.failure(); // 5 of 10 failed
  assert.equal(breaker.state, "open");
  assert.equal(breaker.admit(), false);
});

Deno.test("breaker: outcomes older than the window are forgotten", () => {
  const { clock, breaker } = clocked({ windowMs: 1000, minCalls: 4, consecutiveFailures: 100 });
  breaker.failure(), breaker.failure(), breaker.failure();
  clock.now = 2000;
  breaker.success(), breaker.success(), breaker.success();
  breaker.failure(); // 1 of the 4 in the window
  assert.equal(breaker.state, "closed");
});

Deno.test("breaker: a failed probe reopens it for twice as long, up to maxOpenMs; a cancel frees the probe", () => {
  const { clock, breaker } = clocked({ consecutiveFailures: 1, openMs: 100, maxOpenMs: 300 });
  breaker.failure();
  for (const period of [100, 200, 300, 300]) {
    clock.now += period - 1;
    assert.equal(breaker.state, "open", `still open before ${period} ms`);
    clock.now += 1;
    assert.equal(breaker.state, "half-open");
    assert.equal(breaker.admit(), true);
    breaker.failure();
  }
  clock.now += 300;
  assert.equal(breaker.admit(), true);
  assert.equal(breaker.available, false, "one probe at a time");
  breaker.release(); // the probe's caller cancelled: nothing learnt
  assert.equal(breaker.available, true);
  assert.equal(breaker.admit(), true);
  breaker.success();
  assert.equal(breaker.state, "closed");
  breaker.failure();
  clock.now += 100;
  assert.equal(breaker.state, "half-open", "closed again: the open period starts over");
});

Deno.test("retry budget: at most ratio × calls + the reserve, and no saving up past the reserve", () => {
  const budget = new RetryBudget({ ratio: 0.1, reserve: 3 });
  for (let i = 0; i < 10_000; i++) budget.deposit();
  let retries = 0;
  while (budget.withdraw()) retries++;
  assert.equal(retries, 3);
  for (let i = 0; i < 1000; i++) {
    budget.deposit();
    if (budget.withdraw()) retries++;
  }
  assert.equal(retries, 3 + 100);
  assert.throws(() => new RetryBudget({ ratio: -1 }), RangeError);
});
