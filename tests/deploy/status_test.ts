import assert from "node:assert/strict";
import type { Plan } from "../../src/deploy/plan.ts";
import { DEFAULT_RESTART } from "../../src/deploy/restart.ts";
import { DEFAULT_LIVENESS } from "../../src/deploy/liveness.ts";
import { type DeploymentStatus, formatStatus, serveStatus } from "../../src/deploy/status.ts";
import { Supervisor } from "../../src/deploy/supervisor.ts";

const plan: Plan = {
  name: "demo",
  processes: [],
  routes: {
    Catalog: [{ process: "catalog", protocol: "amqp", url: "amqp://shop:hunter2@broker:5672/" }],
    Cart: [{ process: "orders", protocol: "tcp", url: "tcp://127.0.0.1:7311" }],
  },
  publicInterfaces: {},
  restart: DEFAULT_RESTART,
  liveness: DEFAULT_LIVENESS,
};

Deno.test("status endpoint: processes and routes as JSON to the token's holder, broker passwords hidden", async () => {
  const supervisor = new Supervisor([{ name: "orders", command: "true", args: [] }]);
  const token = "t0ken-for-this-run";
  const status = serveStatus(plan, supervisor, { hostname: "127.0.0.1", port: 0 }, { token });
  try {
    // Without the token (or with another), nothing: pids and routes are not for everyone.
    const tries: Record<string, string>[] = [{}, { authorization: "Bearer guess" }, {
      authorization: token,
    }];
    for (const headers of tries) {
      const refused = await fetch(`${status.url}/status`, { headers });
      assert.equal(refused.status, 401);
      assert.doesNotMatch(await refused.text(), /orders|7311/);
    }
    const body = await (await fetch(`${status.url}/status`, {
      headers: { authorization: `Bearer ${token}` },
    })).json() as DeploymentStatus;
    assert.equal(body.name, "demo");
    assert.equal(body.pid, Deno.pid);
    assert.deepEqual(body.processes, [{
      name: "orders",
      state: "stopped",
      restarts: 0,
      uptime: 0,
    }]);
    assert.equal(body.routes.Catalog[0].url, "amqp://shop:***@broker:5672/");
    assert.doesNotMatch(JSON.stringify(body), /hunter2/);
    // Not every process is running: unhealthy.
    const health = await fetch(`${status.url}/healthz`);
    assert.equal(health.status, 503);
    await health.body?.cancel();
    const post = await fetch(`${status.url}/status`, { method: "POST" });
    assert.equal(post.status, 405);
    await post.body?.cancel();

    const table = formatStatus(body);
    assert.match(table, /^deployment demo \(supervisor pid \d+\)$/m);
    assert.match(table, /^PROCESS\s+STATE\s+PID\s+RESTARTS\s+UPTIME\s+LAST EXIT$/m);
    assert.match(table, /^orders\s+stopped\s+-\s+0\s+-\s+-$/m);
    assert.match(table, /^ {2}Cart -> tcp:\/\/127\.0\.0\.1:7311 \(orders\)$/m);
  } finally {
    await status.shutdown();
  }
});
