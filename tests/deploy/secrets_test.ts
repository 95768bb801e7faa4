// A deployment attacked from the same machine: the secret is nowhere another process can
// read it (environ, cmdline, logs, /status), internal listeners open nothing but /healthz,
// and children do not outlive their supervisor, however it dies.

import assert from "node:assert/strict";
import { connect, sharedSecretCredentials } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { readStatusToken } from "../../src/deploy/status_token.ts";
import { deploy, materialize, until } from "./helpers.ts";

const SHOP = new URL("../../examples/shop/deploy/three_processes.json", import.meta.url);

/** Whether a process is gone (a zombie nobody reaped yet counts as gone: it serves nothing). */
async function gone(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return /^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** Every word of a process's environment and command line that could be a secret. */
async function readable(pid: number): Promise<{ words: Set<string>; names: string[] }> {
  const environ = await Deno.readTextFile(`/proc/${pid}/environ`);
  const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
  const names = environ.split("\0").map((e) => e.split("=")[0]);
  const words = new Set(
    [...environ.split(/[\0=\s:,;"']/), ...cmdline.split(/[\0=\s]/)].filter((w) => w.length >= 20),
  );
  return { words, names };
}

Deno.test({
  name:
    "deploy secrets: not in any child's environ/cmdline, logs or /status; kill -9 of deploy ends every child",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const file = await materialize(SHOP);
    const internal = `http://127.0.0.1:${file.port(7312)}`;
    const ports = [7311, 7312, 7300, 7301].map(file.port);
    let running = deploy([file.path]);
    try {
      const status = await running.ready();
      const pids = status.processes.map((p) => p.pid!);
      assert.equal(pids.length, 3);

      // What anyone who may read /proc/PID sees of every deployed process (and the
      // supervisor), what the deployment logged, and what /status shows: try each word
      // that could be a secret against an internal listener.
      const candidates = new Set<string>();
      for (const pid of [...pids, running.pid]) {
        const { words, names } = await readable(pid);
        assert.ok(!names.some((n) => /SECRET|PLAN/.test(n)), `${pid}: ${names.join(" ")}`);
        for (const w of words) candidates.add(w);
      }
      for (const line of running.lines) {
        for (const w of line.split(/[\s"',:;=]/)) if (w.length >= 20) candidates.add(w);
      }
      for (const w of JSON.stringify(status).split(/[\s"',:;=]/)) {
        if (w.length >= 20) candidates.add(w);
      }
      assert.ok(candidates.size > 5, "the test found nothing to try");
      for (const candidate of candidates) {
        const intruder = connect(internal, {
          auth: sharedSecretCredentials(candidate, "front"),
          timeout: 10_000,
        });
        await assert.rejects(intruder.call("Cart.clear", { cart: "x" }), { name: "Unauthorized" });
        await intruder.close();
      }

      // Internal listeners answer nothing but /healthz without the secret.
      const openrpc = await fetch(`${internal}/openrpc.json`);
      assert.equal(openrpc.status, 401);
      assert.doesNotMatch(await openrpc.text(), /Cart\.clear/);
      const health = await fetch(`${internal}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      // Nor does the status endpoint without its token.
      const statusAddress = `127.0.0.1:${file.port(7399)}`;
      const anonymous = await fetch(`http://${statusAddress}/status`);
      assert.equal(anonymous.status, 401);
      assert.doesNotMatch(await anonymous.text(), /"pid"/);

      // kill -9 of the supervisor: no signal to forward, no cleanup. Each child sees its
      // stdin pipe close, drains and exits; the ports are free again.
      Deno.kill(running.pid, "SIGKILL");
      await running.exited;
      await until("every child to exit", async () => {
        for (const pid of pids) if (!await gone(pid)) return undefined;
        return true;
      }, 15_000);
      await until("the ports to be free", () => ports.every(portFree) || undefined, 5000);

      // The next deploy of the same file starts as if nothing happened.
      running = deploy([file.path]);
      await running.ready();
      const front = connect(`http://127.0.0.1:${file.port(7300)}`, { timeout: 20_000 });
      assert.equal(
        ((await front.call("Catalog.get", { sku: "apple" })) as { stock: number }).stock,
        10,
      );
      await front.close();
      assert.equal(await running.stop(), 0, running.lines.join("\n"));
      // The status token's file goes with the supervisor that wrote it.
      assert.equal(
        await readStatusToken({ hostname: "127.0.0.1", port: file.port(7399) }),
        undefined,
      );
    } finally {
      await running.stop("SIGKILL");
      await Deno.remove(file.dir, { recursive: true });
    }
  },
});

Deno.test("deploy: an address in use is named by --check and by deploy, and nothing starts", async () => {
  const file = await materialize(SHOP);
  const holder = Deno.listen({ hostname: "127.0.0.1", port: file.port(7312) });
  try {
    for (const args of [["--check", file.path], [file.path]]) {
      const run = deploy(args);
      const code = await run.exited;
      const out = run.lines.join("\n");
      assert.equal(code, 1, out);
      assert.match(
        out,
        new RegExp(
          `\\$\\.processes\\.orders\\.listen\\[0\\]: 127\\.0\\.0\\.1:${
            file.port(7312)
          } is in use by another program`,
        ),
      );
      assert.doesNotMatch(out, /restarting|CRASH LOOP|ready/);
      if (args.length === 1) assert.match(out, /nothing was started/);
    }
  } finally {
    holder.close();
    await Deno.remove(file.dir, { recursive: true });
  }
});

Deno.test({
  name: "deploy: after kill -9 of deploy, a call in flight still finishes, then the processes exit",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
    const [tcp, http, status] = [0, 0, 0].map(() => {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (l.addr as Deno.NetAddr).port;
      l.close();
      return port;
    });
    const slow = new URL("./fixtures/slow.ts", import.meta.url).href;
    const file = `${dir}/slow.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        processes: {
          slow: { components: [slow], listen: [{ tcp: `127.0.0.1:${tcp}` }], public: ["Slow"] },
          front: { front: [{ http: `127.0.0.1:${http}` }] },
        },
        status: `127.0.0.1:${status}`,
      }),
    );
    const running = deploy([file]);
    const front = connect(`http://127.0.0.1:${http}`, { timeout: 20_000 });
    try {
      const pids = (await running.ready()).processes.map((p) => p.pid!);
      const call = front.call("Slow.wait", { ms: 1500 });
      await new Promise((r) => setTimeout(r, 300));
      Deno.kill(running.pid, "SIGKILL");
      // The children's stdout went with the supervisor; they drain all the same.
      assert.equal(await call, "waited 1500 ms");
      await until("every child to exit", async () => {
        for (const pid of pids) if (!await gone(pid)) return undefined;
        return true;
      }, 15_000);
      assert.ok(portFree(tcp) && portFree(http));
    } finally {
      await front.close();
      await running.stop("SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
