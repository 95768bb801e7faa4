import assert from "node:assert/strict";
import { decode as thirdPartyDecode } from "@msgpack/msgpack";
import { connect, defineInterface, implement, method, registerType, t } from "../../../mod.ts";
import { Server } from "../../../server.ts";
import { reviveTagged, taggingReplacer } from "../../../src/core/idl/tagged.ts";
import { pack, unpack } from "../../../src/wire/msgpackrpc/codec.ts";
import "../../../tcp.ts"; // connect() speaks tcp

class Money {
  constructor(readonly cents: bigint, readonly currency: string) {}
  add(other: Money): Money {
    if (other.currency !== this.currency) throw new Error("currency mismatch");
    return new Money(this.cents + other.cents, this.currency);
  }
}

class Point {
  constructor(readonly x: number, readonly y: number) {}
}

/** A point in time with a label: its encoding holds a datetime and another registered type. */
class Stamp {
  constructor(readonly at: Date, readonly where: Point) {}
}

const money = registerType({
  name: "Money",
  class: Money,
  encode: (m) => ({ cents: m.cents.toString(), currency: m.currency }),
  decode: (data) => {
    const { cents, currency } = data as { cents: unknown; currency: unknown };
    if (typeof cents !== "string" || typeof currency !== "string") {
      throw new TypeError("expected {cents: string, currency: string}");
    }
    return new Money(BigInt(cents), currency);
  },
});
registerType({
  name: "Point",
  class: Point,
  encode: (p) => [p.x, p.y],
  decode: (data) => new Point(...(data as [number, number])),
  ext: 100,
});
registerType({
  name: "Stamp",
  class: Stamp,
  encode: (s) => ({ at: s.at, where: s.where }),
  decode: (data) => {
    const { at, where } = data as { at: Date; where: Point };
    return new Stamp(at, where);
  },
});
// No msgpack set-up here: the msgpack-rpc codec installs registered types by itself.

const Ledger = defineInterface("Ledger", {
  total: method({ params: { items: t.array(t.any) }, result: t.any }),
  echo: method({ params: { value: t.any }, result: t.any }),
  describe: method({ params: { value: t.any }, result: t.string }),
});

const ledger = implement(Ledger, {
  total: ({ items }) => (items as Money[]).reduce((sum, m) => sum.add(m)),
  echo: ({ value }) => value,
  describe: ({ value }) =>
    value instanceof Stamp
      ? `Stamp at ${value.at.toISOString()} (${value.where.x},${value.where.y}), ${
        value.where instanceof Point ? "a Point" : "not a Point"
      }`
      : value instanceof Money
      ? `Money ${value.cents} ${value.currency}`
      : `${Object.prototype.toString.call(value)}`,
});

const sample = {
  price: new Money(12345678901234567890n, "EUR"),
  points: [new Point(1, 2), new Point(-3.5, 4)],
  stamp: new Stamp(new Date("2026-11-25T18:00:00.000Z"), new Point(7, 8)),
  when: new Date("2001-02-03T04:05:06.789Z"),
  blob: new Uint8Array([0, 1, 254, 255]),
  plain: { $type: "NotRegistered", value: 1 },
};

function assertSample(value: unknown): void {
  const v = value as typeof sample;
  assert.ok(v.price instanceof Money);
  assert.equal(v.price.cents, 12345678901234567890n);
  assert.equal(v.price.currency, "EUR");
  assert.ok(v.points.every((p) => p instanceof Point));
  assert.deepEqual(v.points.map((p) => [p.x, p.y]), [[1, 2], [-3.5, 4]]);
  assert.ok(v.stamp instanceof Stamp);
  assert.ok(v.stamp.at instanceof Date);
  assert.equal(v.stamp.at.toISOString(), "2026-11-25T18:00:00.000Z");
  assert.ok(v.stamp.where instanceof Point);
  assert.ok(v.when instanceof Date);
  assert.equal(v.when.toISOString(), "2001-02-03T04:05:06.789Z");
  assert.ok(v.blob instanceof Uint8Array);
  assert.deepEqual([...v.blob], [0, 1, 254, 255]);
  // A tag of an unregistered name is just data.
  assert.deepEqual(v.plain, { $type: "NotRegistered", value: 1 });
}

Deno.test("registered types travel in JSON as {$type, value} tags and come back as instances", () => {
  const text = JSON.stringify(sample, taggingReplacer);
  const json = JSON.parse(text);
  assert.deepEqual(json.price, {
    $type: "Money",
    value: { cents: "12345678901234567890", currency: "EUR" },
  });
  assert.deepEqual(json.points[0], { $type: "Point", value: [1, 2] });
  assert.deepEqual(json.stamp, {
    $type: "Stamp",
    value: {
      at: { $date: "2026-11-25T18:00:00.000Z" },
      where: { $type: "Point", value: [7, 8] },
    },
  });
  assertSample(reviveTagged(JSON.parse(text)));
});

Deno.test("registered types travel in msgpack as extension types every decoder can skip", () => {
  const bytes = pack(sample);
  assertSample(unpack(bytes));
  // A third-party decoder sees well-formed msgpack: an ext value, the rest intact.
  const foreign = thirdPartyDecode(bytes) as Record<string, unknown>;
  assert.equal((foreign.price as { type: number }).type, money.ext);
  assert.equal((foreign.points as { type: number }[])[0].type, 100);
  assert.ok(foreign.when instanceof Date);
});

Deno.test("user types round-trip through JSON-RPC over HTTP with t.any params and results", async () => {
  const errors: string[] = [];
  const server = new Server({ logger: { error: (m) => errors.push(m), warn: () => {} } })
    .register(ledger);
  const http = await server.listenHttp({ port: 0 });
  const client = connect(http.url);
  try {
    const l = client.proxy(Ledger);
    const total = await l.total({ items: [new Money(150n, "EUR"), new Money(250n, "EUR")] });
    assert.ok(total instanceof Money);
    assert.equal(total.cents, 400n);
    assertSample(await l.echo({ value: sample }));
    assert.equal(
      await l.describe({ value: sample.stamp }),
      "Stamp at 2026-11-25T18:00:00.000Z (7,8), a Point",
    );
    // The handler's exception is the server's business: an internal error.
    await assert.rejects(
      l.total({ items: [new Money(1n, "EUR"), new Money(1n, "USD")] }),
      { name: "InternalError" },
    );
    assert.equal(errors.length, 1);
    assert.match(errors[0], /internal error in Ledger\.total: Error: currency mismatch/);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a tag that does not decode is refused as invalid params", async () => {
  const server = new Server().register(ledger);
  const http = await server.listenHttp({ port: 0 });
  try {
    const response = await fetch(`${http.url}/rpc`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "Ledger.echo",
        params: { value: { $type: "Money", value: "twelve euros" } },
      }),
    });
    const body = await response.json();
    assert.equal(body.error.code, -32602);
    assert.match(body.error.message, /params\.value: cannot decode a Money: expected \{cents/);
  } finally {
    await server.close();
  }
});

Deno.test("user types round-trip through msgpack-rpc over TCP", async () => {
  const server = new Server().register(ledger);
  const tcp = await server.listenTcp({ port: 0 });
  const client = connect(tcp.url);
  try {
    const l = client.proxy(Ledger);
    const total = await l.total({ items: [new Money(1n, "CHF"), new Money(2n, "CHF")] });
    assert.ok(total instanceof Money);
    assert.equal(total.cents, 3n);
    assertSample(await l.echo({ value: sample }));
    assert.equal(await l.describe({ value: new Money(5n, "JPY") }), "Money 5 JPY");
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("registration refuses conflicts and accepts the same registration again", () => {
  const again = registerType({
    name: "Point",
    class: Point,
    encode: (p) => [p.x, p.y],
    decode: (d) => new Point(...(d as [number, number])),
  });
  assert.equal(again.ext, 100);
  class Other {}
  const codec = { encode: () => null, decode: () => new Other() };
  assert.throws(
    () => registerType({ name: "Point", class: Other, ...codec }),
    /already registered/,
  );
  assert.throws(
    () => registerType({ name: "Point2", class: Point, ...codec } as never),
    /class is already registered as Point/,
  );
  assert.throws(
    () => registerType({ name: "Other", class: Other, ...codec, ext: 100 }),
    /extension type 100 is taken by Point/,
  );
  assert.throws(
    () => registerType({ name: "Other", class: Other, ...codec, ext: 0x42 }),
    /ext must be an integer in 1\.\.127/,
  );
  assert.throws(
    () => registerType({ name: "Other", class: Other, ...codec, ext: 128 }),
    /ext must be/,
  );
  assert.throws(() => registerType({ name: "", class: Other, ...codec }), /non-empty/);
});
