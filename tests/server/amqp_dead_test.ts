// How a worker reports the messages it dead-letters: the first at once, then a count at most
// once a second, so a flood of poison messages cannot flood the log.
import assert from "node:assert/strict";
import { DeadLetterLog } from "../../src/server/amqp_dead.ts";

Deno.test("dead-letter log: the first at once, the rest counted into the next report", async () => {
  const lines: string[] = [];
  const log = new DeadLetterLog((line) => lines.push(line), "app.dead");
  log.report("app.Calc", "not msgpack");
  for (let i = 0; i < 50; i++) log.report("app.Calc", "not msgpack");
  assert.deepEqual(lines, [
    "amqp: a message from app.Calc is no call (not msgpack); moved to app.dead",
  ]);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  log.report("app.Shop", "a response is not a call");
  assert.equal(lines.length, 2);
  assert.equal(
    lines[1],
    "amqp: a message from app.Shop is no call (a response is not a call); moved to app.dead " +
      "(and 50 more)",
  );
});
