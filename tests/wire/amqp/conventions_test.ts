// The properties a call message carries, as the client writes them and a worker reads them:
// the deadline (as TTL and header), the trace context, the broker-verified user and the id.
import assert from "node:assert/strict";
import {
  DEADLINE_HEADER,
  incomingProperties,
  outgoingProperties,
} from "../../../src/wire/amqp/conventions.ts";

const trace = { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };

Deno.test("amqp call properties: what the client writes, a worker reads back", () => {
  const now = 1_700_000_000_000;
  const out = outgoingProperties({ deadline: now + 1500.2, trace }, now);
  assert.equal(out.expiration, "1501"); // whole ms, never shorter than the deadline
  assert.equal(out.headers[DEADLINE_HEADER], now + 1500.2);
  const read = incomingProperties({
    headers: out.headers,
    expiration: out.expiration,
    userId: "alice",
    messageId: "client-1.7",
  });
  assert.deepEqual(read, {
    deadline: now + 1500.2,
    caller: { id: "alice" },
    trace,
    id: "client-1.7",
  });
});

Deno.test("amqp call properties: no deadline, no TTL; a passed one reads as expired", () => {
  assert.deepEqual(outgoingProperties({}), { headers: {}, expiration: undefined });
  const late = outgoingProperties({ deadline: 1000 }, 5000);
  assert.ok(Number(late.expiration) <= 0);
});

Deno.test("amqp call properties: a worker ignores what is not a deadline or a user", () => {
  for (const bad of ["soon", -5, 0, null, Infinity]) {
    assert.deepEqual(incomingProperties({ headers: { [DEADLINE_HEADER]: bad } }), {});
  }
  assert.deepEqual(incomingProperties({ userId: "", messageId: "" }), {});
  assert.deepEqual(incomingProperties({}), {});
});
