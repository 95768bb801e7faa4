// The retry budget's arithmetic: over any run of calls, the retries are the declared share of
// them plus at most the saved-up allowance, and none of the share is lost to rounding or the cap.
import assert from "node:assert/strict";
import { RetryBudget } from "../../src/core/retry_budget.ts";

/** Calls that each fail and retry as long as the budget allows (a total outage). */
function outage(budget: RetryBudget, calls: number): number {
  let retries = 0;
  for (let i = 0; i < calls; i++) {
    budget.deposit();
    // Up to two retries per call, as the balancer's default of 3 attempts.
    for (let r = 0; r < 2 && budget.withdraw(); r++) retries++;
  }
  return retries;
}

Deno.test("retry budget: an outage gets exactly ratio × calls, whatever the ratio, without a reserve", () => {
  for (const ratio of [0.1, 0.07, 0.3, 1 / 3, 0.9]) {
    const calls = 100_000;
    const retries = outage(new RetryBudget({ ratio, reserve: 0 }), calls);
    assert.ok(retries <= ratio * calls, `${ratio}: ${retries}`);
    // Within one retry of the share: the cap clips nothing of it.
    assert.ok(retries >= Math.floor(ratio * calls) - 1, `${ratio}: ${retries} of ${ratio * calls}`);
  }
});

Deno.test("retry budget: after a healthy spell an outage gets its share plus the reserve, never more", () => {
  for (const [ratio, reserve] of [[0.1, 10], [0.1, 0], [0.3, 0.5], [0.05, 2]]) {
    const budget = new RetryBudget({ ratio, reserve });
    for (let i = 0; i < 50_000; i++) budget.deposit(); // healthy: nothing retried
    const allowance = Math.max(reserve, 1 + ratio);
    for (const calls of [1, 10, 1000, 5000]) {
      const retries = outage(budget, calls);
      assert.ok(retries <= ratio * calls + allowance, `${ratio}/${reserve}/${calls}: ${retries}`);
      for (let i = 0; i < 50_000; i++) budget.deposit();
    }
  }
});
