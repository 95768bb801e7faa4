import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { checkDeployment, deploymentSchema } from "../../src/deploy/schema.ts";

const paths = (value: unknown) => checkDeployment(value).map((p) => `${p.path}: ${p.message}`);

Deno.test("the published schema is a valid JSON Schema and accepts the example files", async () => {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  const validate = ajv.compile(deploymentSchema);
  for (const name of ["all_in_one", "three_processes"]) {
    const file = new URL(`../../examples/shop/deploy/${name}.json`, import.meta.url);
    const value = JSON.parse(await Deno.readTextFile(file));
    assert.ok(validate(value), JSON.stringify(validate.errors));
    assert.deepEqual(checkDeployment(value), []);
  }
});

Deno.test("a good file has no problems", () => {
  assert.deepEqual(
    paths({
      processes: {
        a: { components: ["./a.ts"], listen: [{ tcp: "127.0.0.1:9001" }], public: ["A"] },
        b: {
          placement: "worker",
          permissions: { net: ["127.0.0.1"], read: false },
          components: ["b.ts"],
        },
        front: { front: [{ http: "0.0.0.0:8080" }, { amqp: "amqp://localhost", prefix: "shop" }] },
      },
      status: "127.0.0.1:9999",
      restart: { maxCrashes: 3 },
      liveness: { interval: 500, timeout: 2000, restartAfter: 0 },
    }),
    [],
  );
});

Deno.test("liveness limits are checked like the others", () => {
  assert.deepEqual(
    paths({
      processes: { a: { components: ["a.ts"] } },
      liveness: { interval: 0, timeout: "5s", restartAfter: -1, kill: true },
    }),
    [
      "$.liveness.kill: unknown property (expected one of interval, timeout, restartAfter)",
      "$.liveness.interval: must be >= 10",
      "$.liveness.timeout: expected integer",
      "$.liveness.restartAfter: must be >= 0",
    ],
  );
});

Deno.test("every structural mistake is reported with its JSON path", () => {
  assert.deepEqual(
    paths({
      processes: {
        "Bad Name": { components: ["x.ts"] },
        ok: {
          components: ["a.ts", 7],
          placement: "container",
          listen: [{ htp: "127.0.0.1:1" }, { tcp: "nowhere" }],
          public: ["A", "A", "not-an-identifier"],
        },
      },
      status: 8080,
      extra: true,
    }),
    [
      "$.extra: unknown property (expected one of $schema, name, processes, status, restart, liveness)",
      '$.processes["Bad Name"]: process names are 1-40 characters of a-z, 0-9, - and _, starting with a letter',
      "$.processes.ok.components[1]: expected string",
      '$.processes.ok.placement: expected one of "inline", "worker"',
      "$.processes.ok.listen[0].htp: unknown property (expected one of http, tcp, amqp, prefix, advertise, tls)",
      '$.processes.ok.listen[1].tcp: expected host:port, e.g. 127.0.0.1:8080, got "nowhere"',
      '$.processes.ok.public[2]: "not-an-identifier" is not an interface name',
      "$.processes.ok.public: lists the same value twice (items 1 and 0)",
      "$.status: expected string",
      "$.processes.ok.listen[0]: names no protocol: give exactly one of http, tcp, amqp",
    ],
  );
});

Deno.test("mistakes of meaning are reported with their JSON paths", () => {
  assert.deepEqual(
    paths({
      processes: {
        empty: {},
        a: {
          components: ["a.ts"],
          permissions: { net: true },
          listen: [
            { http: "127.0.0.1:0" },
            { tcp: "127.0.0.1:9000", http: "127.0.0.1:9001" },
            { tcp: "127.0.0.1:70000" },
            { tcp: "127.0.0.1:9002", prefix: "x" },
            { amqp: "amqp://h", advertise: "h:1" },
          ],
        },
        b: { front: [{ tcp: "127.0.0.1:9002" }], public: ["B"] },
      },
      status: "127.0.0.1:9002",
    }),
    [
      "$.processes.empty: has nothing to run: give it components, a front, or both",
      '$.processes.a.permissions: permissions apply only to placement "worker"',
      "$.processes.a.listen[0].http: port 0 is not allowed: the other processes must know the port in advance",
      "$.processes.a.listen[1]: names http and tcp: give exactly one of http, tcp, amqp",
      "$.processes.a.listen[2].tcp: port 70000 is out of range (1-65535)",
      "$.processes.a.listen[3].prefix: applies only to amqp",
      "$.processes.a.listen[4].advertise: applies only to http and tcp",
      "$.processes.b.public: a process without components has no interfaces to make public",
      "$.processes.b.front[0].tcp: 127.0.0.1:9002 is already used by $.processes.a.listen[3]",
      "$.status: 127.0.0.1:9002 is already used by $.processes.a.listen[3]",
    ],
  );
});

Deno.test("a file that is not an object, or has no processes, says so at $", () => {
  assert.deepEqual(paths([]), ["$: expected object"]);
  assert.deepEqual(paths({}), ["$.processes: is required"]);
  assert.deepEqual(paths({ processes: {} }), ["$.processes: must not be empty"]);
});

Deno.test("a front may not consume the queues of an amqp listener", () => {
  assert.deepEqual(
    paths({
      processes: {
        a: { components: ["a.ts"], listen: [{ amqp: "amqp://h" }] },
        b: { components: ["b.ts"], listen: [{ amqp: "amqp://h", prefix: "b" }] },
        f: { front: [{ amqp: "amqp://h", prefix: "public" }, { amqp: "amqp://h" }] },
      },
    }),
    [
      '$.processes.f.front[1]: shares broker and prefix with $.processes.a.listen[0], so it would consume (and forward back) the calls meant for that process; give it another "prefix"',
    ],
  );
});

Deno.test('"workers" is a positive integer or "auto"', () => {
  const withWorkers = (workers: unknown) =>
    paths({ processes: { a: { components: ["a.ts"], workers } } });
  assert.deepEqual(withWorkers(2), []);
  assert.deepEqual(withWorkers("auto"), []);
  for (const bad of [0, 1.5, "two", -1]) {
    const problems = withWorkers(bad);
    assert.ok(problems.length > 0, String(bad));
    assert.ok(problems.every((p) => p.startsWith("$.processes.a.workers")), problems.join("\n"));
  }
});

Deno.test('"balance" is least-in-flight, round-robin or {"sticky": PARAM}, else one clear problem', () => {
  const withBalance = (balance: unknown) =>
    paths({ processes: { a: { components: ["a.ts"], balance } } });
  for (const good of ["least-in-flight", "round-robin", { sticky: "user" }]) {
    assert.deepEqual(withBalance(good), [], JSON.stringify(good));
  }
  const sticky =
    '$.processes.a.balance: sticky balancing needs the param whose value keeps a caller on one replica: {"sticky": "PARAM"}, e.g. {"sticky": "user"}';
  assert.deepEqual(withBalance("sticky"), [sticky]);
  assert.deepEqual(withBalance({ sticky: "" }), [sticky]);
  assert.deepEqual(withBalance({ sticky: 3 }), [sticky]);
  for (const bad of ["random", 2, { stick: "user" }, { sticky: "user", other: 1 }, null]) {
    assert.deepEqual(withBalance(bad), [
      `$.processes.a.balance: expected "least-in-flight", "round-robin" or {"sticky": "PARAM"}, got ${
        JSON.stringify(bad)
      }`,
    ]);
  }
});
