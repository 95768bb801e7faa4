import assert from "node:assert/strict";
import { planDeployment } from "../../src/deploy/plan.ts";
import { DeploymentError } from "../../src/deploy/schema.ts";
// The library the components get, as `switchboard deploy` provides it.
import "../../deploy.ts";

const here = new URL("./fixtures/deployment.json", import.meta.url);
const shop = new URL("../../examples/shop/deploy/three_processes.json", import.meta.url);

async function problems(value: unknown, base = here): Promise<string[]> {
  try {
    await planDeployment(value, base);
  } catch (error) {
    if (error instanceof DeploymentError) {
      return error.problems.map((p) => `${p.path}: ${p.message}`);
    }
    throw error;
  }
  assert.fail("expected the plan to fail");
}

Deno.test("the planner loads components and builds the routing table", async () => {
  const value = JSON.parse(await Deno.readTextFile(shop));
  const plan = await planDeployment(value, shop);
  assert.equal(plan.name, "shop-three-processes");
  assert.deepEqual(plan.routes, {
    Catalog: [{ process: "catalog", protocol: "tcp", url: "tcp://127.0.0.1:7311" }],
    Cart: [{ process: "orders", protocol: "http", url: "http://127.0.0.1:7312" }],
    Orders: [{ process: "orders", protocol: "http", url: "http://127.0.0.1:7312" }],
  });
  assert.deepEqual(plan.processes.map((p) => [p.name, p.interfaces, p.public]), [
    ["catalog", ["Catalog"], ["Catalog"]],
    ["orders", ["Cart", "Orders"], ["Cart", "Orders"]],
    ["front", [], []],
  ]);
  assert.equal(
    plan.processes[0].components[0],
    new URL("../../examples/shop/components/catalog.ts", import.meta.url).href,
  );
  assert.deepEqual(plan.processes[2].front, [
    { protocol: "http", hostname: "127.0.0.1", port: 7300 },
    { protocol: "tcp", hostname: "127.0.0.1", port: 7301 },
  ]);
  const component = (name: string) =>
    new URL(`../../examples/shop/components/${name}.ts`, import.meta.url).href;
  assert.deepEqual(plan.publicInterfaces, {
    Catalog: { process: "catalog", module: component("catalog") },
    Cart: { process: "orders", module: component("cart") },
    Orders: { process: "orders", module: component("orders") },
  });
  assert.deepEqual(plan.status, { hostname: "127.0.0.1", port: 7399 });
  assert.equal(plan.restart.maxCrashes, 5);
});

Deno.test("routes prefer tcp, honour advertise, and dial wildcard binds on loopback", async () => {
  const plan = await planDeployment({
    processes: {
      a: {
        components: ["./greeter.ts"],
        listen: [{ http: "0.0.0.0:9101" }, { tcp: "127.0.0.1:9102", advertise: "127.0.0.1:9202" }],
        public: ["Greeter"],
      },
      b: { front: [{ http: "127.0.0.1:9103" }] },
    },
  }, here);
  assert.deepEqual(plan.routes.Greeter, [
    { process: "a", protocol: "tcp", url: "tcp://127.0.0.1:9202" },
    { process: "a", protocol: "http", url: "http://127.0.0.1:9101" },
  ]);
  assert.deepEqual(plan.publicInterfaces, {
    Greeter: { process: "a", module: new URL("./fixtures/greeter.ts", import.meta.url).href },
  });
});

Deno.test("a front with nothing public is a problem", async () => {
  assert.deepEqual(
    await problems({
      processes: {
        a: { components: ["./greeter.ts"], listen: [{ tcp: "127.0.0.1:9102" }] },
        b: { front: [{ http: "127.0.0.1:9103" }] },
      },
    }),
    [
      '$.processes.b.front: the front would expose nothing: list interfaces under "public" in the processes that serve them',
    ],
  );
});

Deno.test("loading and routing mistakes are reported with their JSON paths", async () => {
  const found = await problems({
    processes: {
      a: {
        components: ["./greeter.ts", "./missing.ts", "./not_a_component.ts"],
        listen: [{ tcp: "127.0.0.1:9102" }],
        public: ["Greeter", "Nope"],
      },
      b: { components: ["./greeter.ts", "./private_only.ts"], public: ["Vault"] },
    },
  });
  assert.equal(found.length, 4, found.join("\n"));
  assert.match(found[0], /^\$\.processes\.a\.components\[1\]: cannot load component .*missing\.ts/);
  assert.match(
    found[1],
    /^\$\.processes\.a\.components\[2\]: component .* exports no implementation/,
  );
  assert.equal(
    found[2],
    "$.processes.b.public[0]: Vault has no method marked public: true, so a front would expose nothing of it",
  );
  assert.match(
    found[3],
    /^\$\.processes\.b\.listen: process b serves Greeter, Vault but has no listener/,
  );
});

Deno.test("a public name a process does not serve is reported", async () => {
  assert.deepEqual(
    await problems({ processes: { a: { components: ["./greeter.ts"], public: ["Nope"] } } }),
    ["$.processes.a.public[0]: process a serves no interface Nope (it serves Greeter)"],
  );
});

Deno.test("structural problems stop the planner before any component is loaded", async () => {
  let loaded = 0;
  await assert.rejects(
    planDeployment({ processes: { a: { components: ["./greeter.ts"], listen: [{}] } } }, here, {
      load: () => {
        loaded++;
        return Promise.resolve([]);
      },
    }),
    DeploymentError,
  );
  assert.equal(loaded, 0);
});

Deno.test("components placed in a worker are planned in a worker, never loaded here", async () => {
  const plan = await planDeployment({
    processes: {
      box: {
        components: ["./sandboxed.ts"],
        placement: "worker",
        permissions: { read: false },
        public: ["Sandboxed"],
        front: [{ http: "127.0.0.1:9104" }],
      },
    },
  }, here);
  assert.deepEqual(plan.processes[0].interfaces, ["Sandboxed"]);
  assert.equal((globalThis as { sandboxedLoadedHere?: boolean }).sandboxedLoadedHere, undefined);
  // The same module loaded inline does run here: the check above can fail.
  await planDeployment({ processes: { box: { components: ["./sandboxed.ts"] } } }, here);
  assert.equal((globalThis as { sandboxedLoadedHere?: boolean }).sandboxedLoadedHere, true);
});

Deno.test("replicas: NAME#k each on its ports plus k-1, all in the routing table", async () => {
  const plan = await planDeployment({
    processes: {
      greeter: {
        components: ["./greeter.ts"],
        listen: [{ http: "127.0.0.1:9300" }, {
          tcp: "127.0.0.1:9310",
          advertise: "localhost:9320",
        }],
        metrics: "127.0.0.1:9330",
        replicas: 3,
      },
      other: { components: ["./greeter.ts"], listen: [{ tcp: "127.0.0.1:9340" }] },
    },
  }, here);
  assert.deepEqual(plan.processes.map((p) => [p.name, p.replicaOf?.index]), [
    ["greeter#1", 1],
    ["greeter#2", 2],
    ["greeter#3", 3],
    ["other", undefined],
  ]);
  assert.deepEqual(plan.processes[2].listen.map((l) => l.port), [9302, 9312]);
  assert.equal(plan.processes[2].metrics?.port, 9332);
  // Replica by replica, TCP first; then the other process serving the same interface.
  assert.deepEqual(plan.routes.Greeter.map((r) => `${r.process} ${r.url}`), [
    "greeter#1 tcp://localhost:9320",
    "greeter#1 http://127.0.0.1:9300",
    "greeter#2 tcp://localhost:9321",
    "greeter#2 http://127.0.0.1:9301",
    "greeter#3 tcp://localhost:9322",
    "greeter#3 http://127.0.0.1:9302",
    "other tcp://127.0.0.1:9340",
  ]);
});

Deno.test("replicas: their ports may not overlap others' nor leave the range", async () => {
  assert.deepEqual(
    await problems({
      processes: {
        a: { components: ["./greeter.ts"], listen: [{ tcp: "127.0.0.1:9400" }], replicas: 3 },
        b: { components: ["./greeter.ts"], listen: [{ tcp: "127.0.0.1:9402" }] },
        c: { components: ["./greeter.ts"], listen: [{ tcp: "127.0.0.1:65535" }], replicas: 2 },
        d: { components: ["./greeter.ts"], replicas: 0 },
      },
    }),
    [
      "$.processes.d.replicas: must be >= 1",
      "$.processes.b.listen[0].tcp: 127.0.0.1:9402 is already used by $.processes.a.listen[0] (replica 3)",
      "$.processes.c.listen[0].tcp: ports 65535-65536 (one per replica) are out of range (1-65535)",
    ],
  );
});
