// What a transport does when a caller aborts: the error the call fails with, and a pause that
// ends on abort instead of outliving the call.
import assert from "node:assert/strict";
import { abortReason, sleep } from "../../src/core/abort.ts";
import { rpcError } from "../../src/core/errors.ts";

Deno.test("abortReason: the client's reason when it gave one, else Cancelled", () => {
  const timedOut = new AbortController();
  const timeout = rpcError("Timeout", "Calc.add timed out after 5 ms");
  timedOut.abort(timeout);
  assert.equal(abortReason("Calc.add", timedOut.signal), timeout);

  const plain = new AbortController();
  plain.abort(new Error("user pressed stop"));
  const error = abortReason("Calc.add", plain.signal);
  assert.equal(error.name, "Cancelled");
  assert.equal(error.message, "Calc.add was cancelled");
});

Deno.test("sleep: waits its time without a signal", async () => {
  const started = performance.now();
  await sleep(30);
  assert.ok(performance.now() - started >= 25);
});

/** Whether `pause` ends within a generous bound (it would otherwise take a minute). */
async function endsSoon(pause: Promise<void>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(resolve, 5_000, false));
  try {
    return await Promise.race([pause.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("sleep: ends when the signal aborts, and at once when it already has", async () => {
  const controller = new AbortController();
  const paused = sleep(60_000, controller.signal);
  controller.abort();
  assert.equal(await endsSoon(paused), true);
  assert.equal(await endsSoon(sleep(60_000, controller.signal)), true);
});
