/**
 * The Node + msgpackr load generator of `deno task bench` (scripts/bench/peers/msgpack_load.js)
 * against a msgpack-rpc server started here: its calls are counted, a wrong answer is
 * reported, and its own share of its core comes back with the result. Counts only, never a
 * rate. Skipped where Node or the bench's peers (`npm ci --prefix scripts/bench/peers`, which
 * .ci/setup.d/16-bench-peers.sh runs) are missing, outside CI; under CI it runs, and fails.
 */

import { CI } from "../fixtures/peers.ts";
import assert from "node:assert/strict";
import { pack, unpackMultiple } from "msgpackr";
import { tcpCell } from "../../scripts/bench/generators.ts";

const peers = new URL("../../scripts/bench/peers/node_modules/msgpackr/", import.meta.url);
const ready = await Deno.stat(peers).then(() => true, () => false) &&
  await new Deno.Command("node", { args: ["--version"], stdout: "null" }).output()
    .then((o) => o.success, () => false);

/** A msgpack-rpc server answering every call with `answer(params)`. */
function serve(answer: (params: number[]) => unknown) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const buffer = new Uint8Array(64 * 1024);
        let pending = new Uint8Array(0);
        try {
          for (let n; (n = await conn.read(buffer)) !== null;) {
            const data = new Uint8Array(pending.length + n);
            data.set(pending);
            data.set(buffer.subarray(0, n), pending.length);
            pending = new Uint8Array(0);
            const replies: Uint8Array[] = [];
            try {
              unpackMultiple(data, (msg: unknown) => {
                const [, id, , params] = msg as [number, number, string, number[]];
                replies.push(pack([1, id, null, answer(params)]));
              });
            } catch (error) {
              const e = error as { incomplete?: boolean; lastPosition?: number };
              if (!e.incomplete) throw error;
              pending = data.slice(e.lastPosition ?? 0);
            }
            for (const r of replies) await conn.write(r);
          }
        } catch {
          /* closed */
        } finally {
          conns.delete(conn);
          try {
            conn.close();
          } catch { /* closed */ }
        }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const c of conns) c.close();
    },
  };
}

const load = { label: "8 in flight, 2 conns", connections: 2, depth: 8 };
const cell = tcpCell({ wrk: false, node: true, pin: false });

Deno.test({
  name: "msgpack_load.js: keeps calls in flight, counts the answers, reports its own share",
  ignore: !ready && !CI,
  async fn() {
    const server = serve(([a, b]) => a + b);
    const windows: boolean[] = [];
    try {
      const result = await cell({ tcp: server.port }, "add", load, {
        warmupMs: 100,
        durationMs: 500,
        onWindow: (open) => windows.push(open),
      });
      assert.equal(result.wrong, undefined);
      assert.equal(result.errors, 0);
      assert.ok(result.calls > 0 && Number.isFinite(result.p99), JSON.stringify(result));
      assert.deepEqual(windows, [true, false]);
      assert.ok(result.generator && result.generator.busy >= 0, JSON.stringify(result));
    } finally {
      server.close();
    }
  },
});

Deno.test({
  name: "msgpack_load.js: a server giving the wrong result is reported",
  ignore: !ready && !CI,
  async fn() {
    const server = serve(() => 41);
    try {
      const result = await cell({ tcp: server.port }, "add", load, {
        warmupMs: 0,
        durationMs: 300,
      });
      // Only the first answer is checked (as every generator of the bench does).
      assert.match(result.wrong ?? "", /unexpected: 41/);
    } finally {
      server.close();
    }
  },
});
