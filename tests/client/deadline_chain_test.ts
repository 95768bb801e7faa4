// Deadlines and cancels across hops: a deployment of real processes (front → a → b → c over
// msgpack-rpc, b's component in a worker, each hop calling the next through `ctx.client`). The deadline shrinks at every
// hop; a cancel, or the deadline passing, at the caller aborts the last hop's handler.
import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { deploy, freePorts, until } from "../deploy/helpers.ts";

const HOPS = new URL("../fixtures/components/chain/", import.meta.url);

async function chain() {
  const [a, b, c, front, status] = freePorts(5);
  const dir = await Deno.makeTempDir({ prefix: "switchboard-chain-" });
  const file = `${dir}/chain.json`;
  const hop = (name: string, port: number, pub?: string) => ({
    components: [new URL(`${name}.ts`, HOPS).href],
    listen: [{ tcp: `127.0.0.1:${port}` }],
    ...(pub ? { public: [pub] } : {}),
  });
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      processes: {
        a: hop("a", a, "HopA"),
        // In a worker: b's calls to c go through the worker messages to its host.
        b: { ...hop("b", b), placement: "worker", permissions: { read: [HOPS.pathname] } },
        c: hop("c", c),
        front: { front: [{ tcp: `127.0.0.1:${front}` }] },
      },
      status: `127.0.0.1:${status}`,
    }),
  );
  const running = deploy([file]);
  await running.ready();
  const client = connect(`tcp://127.0.0.1:${front}`);
  return {
    dir,
    client,
    log: `${dir}/c.log`,
    async close() {
      await client.close();
      await running.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function logOf(path: string): Promise<string> {
  return await Deno.readTextFile(path).catch(() => "");
}

Deno.test({
  name:
    "deadline chain: the deadline shrinks at every hop; a cancel or a deadline at the caller aborts the last hop",
  sanitizeResources: false,
  async fn() {
    const deployed = await chain();
    const { client, log } = deployed;
    try {
      const left = await client.call("HopA.relay", { hold: false, log }, {
        timeout: 8000,
      }) as number[];
      assert.equal(left.length, 3);
      const [a, b, c] = left;
      assert.ok(a <= 8000 && b < a && c < b && c > 0, `left at a, b, c: ${left.join(", ")}`);

      const controller = new AbortController();
      const held = client.call("HopA.relay", { hold: true, log }, {
        timeout: 30_000,
        signal: controller.signal,
      });
      held.catch(() => {});
      // (`until` waits for a value other than undefined.)
      await until("the last hop to start", async () => (await logOf(log)).match(/started/)?.[0]);
      controller.abort();
      await assert.rejects(held, { name: "Cancelled" });
      const cancelled = await until(
        "the last hop to be aborted",
        async () => (await logOf(log)).match(/^aborted .*$/m)?.[0],
        15_000,
      );
      assert.match(cancelled, /^aborted Cancelled: /);

      await Deno.remove(log);
      const started = Date.now();
      await assert.rejects(
        client.call("HopA.relay", { hold: true, log }, { timeout: 1500 }),
        { name: "Timeout" },
      );
      const expired = await until(
        "the last hop's deadline to pass",
        async () => (await logOf(log)).match(/^aborted .*$/m)?.[0],
        15_000,
      );
      assert.match(expired, /^aborted Timeout: /);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await deployed.close();
    }
  },
});
