// What the supervisor decides when a child exits: a backoff that doubles with the crashes in
// the window, a crash loop given up on, and a child that says no restart can fix it.

import assert from "node:assert/strict";
import { afterExit, DEFAULT_RESTART, EXIT_CONFIG } from "../../src/deploy/restart.ts";

const crash = { code: 1, signal: null };

Deno.test("restart: the delay doubles with each crash in the window, up to maxDelay", () => {
  const policy = { ...DEFAULT_RESTART, maxCrashes: 100 };
  let crashes: number[] = [];
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    const verdict = afterExit(policy, "web", crashes, 1_000 + i, crash);
    assert.equal(verdict.giveUp, undefined);
    if (verdict.giveUp === undefined) delays.push(verdict.delay);
    crashes = verdict.crashes;
  }
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
});

Deno.test("restart: crashes older than the window are forgotten", () => {
  const verdict = afterExit(DEFAULT_RESTART, "web", [0, 1, 2, 3], 61_000, crash);
  assert.deepEqual(verdict.crashes, [61_000]);
  assert.equal(verdict.giveUp === undefined && verdict.delay, 250);
});

Deno.test("restart: maxCrashes within the window is a crash loop, named", () => {
  const verdict = afterExit(DEFAULT_RESTART, "web", [1, 2, 3, 4], 5, {
    code: -1,
    signal: "SIGKILL",
  });
  assert.deepEqual(verdict.giveUp, {
    reason: "web crashed 5 times within 60 s (last: killed by SIGKILL); giving up",
    config: false,
  });
});

Deno.test("restart: EXIT_CONFIG gives up at once, on the first exit", () => {
  const verdict = afterExit(DEFAULT_RESTART, "web", [], 5, { code: EXIT_CONFIG, signal: null });
  assert.equal(verdict.giveUp?.config, true);
  assert.match(verdict.giveUp!.reason, /^web cannot run as configured/);
});
