// A deployment process with "workers": 2: both isolates serve its front on one port, its
// metrics add them up, SIGTERM stops it cleanly, and an implementation marked once runs in
// one isolate for both.

import assert from "node:assert/strict";
import { deploy, freePorts } from "./helpers.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).href;

/** One JSON-RPC call over a connection of its own (so the kernel picks a worker for it). */
async function httpCall(port: number, method: string): Promise<unknown> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: {} });
  await conn.write(
    new TextEncoder().encode(
      `POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    ),
  );
  const text = await new Response(conn.readable).text();
  const json = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
  if (json.error) throw new Error(json.error.message);
  return json.result;
}

Deno.test('deploy: a process with "workers": 2 serves from both isolates on one port', async () => {
  const [front, tcp, metrics, status] = freePorts(4);
  const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
  const file = `${dir}/workers.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      processes: {
        probe: {
          components: [fixture("which_worker.ts")],
          listen: [{ tcp: `127.0.0.1:${tcp}` }],
          front: [{ http: `127.0.0.1:${front}` }],
          public: ["Which"],
          metrics: `127.0.0.1:${metrics}`,
          workers: 2,
        },
      },
      status: `127.0.0.1:${status}`,
    }),
  );
  const running = deploy([file]);
  try {
    await running.ready();
    const seen = new Set<string>();
    for (let i = 0; i < 400 && seen.size < 2; i++) {
      seen.add(String(await httpCall(front, "Which.worker")));
    }
    assert.deepEqual(
      [...seen].sort(),
      ["switchboard serve worker 0", "switchboard serve worker 1"],
      running.lines.join("\n"),
    );
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    for (const worker of ["0", "1"]) {
      const line = text.split("\n").find((l) =>
        l.startsWith(`switchboard_serve_worker_calls_total{worker="${worker}"} `)
      );
      assert.ok(line && Number(line.split(" ")[1]) > 0, text);
    }
    assert.ok(running.lines.some((l) => l.includes("probe: 2 workers share these ports")));
    assert.equal(await running.stop(), 0, running.lines.join("\n"));
  } finally {
    await running.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('deploy: a once implementation in a "workers": 2 process counts once for both isolates', async () => {
  const [front, tcp, status] = freePorts(3);
  const dir = await Deno.makeTempDir({ prefix: "switchboard-deploy-" });
  const file = `${dir}/workers.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      processes: {
        probe: {
          components: [fixture("which_worker.ts"), fixture("once_tally.ts")],
          listen: [{ tcp: `127.0.0.1:${tcp}` }],
          front: [{ http: `127.0.0.1:${front}` }],
          public: ["Which", "Tally"],
          workers: 2,
        },
      },
      status: `127.0.0.1:${status}`,
    }),
  );
  const running = deploy([file]);
  try {
    await running.ready();
    const seen = new Set<string>();
    for (let i = 0; i < 400 && seen.size < 2; i++) {
      seen.add(String(await httpCall(front, "Which.worker")));
    }
    assert.equal(seen.size, 2, running.lines.join("\n"));
    // Over fresh connections, so both isolates take some: one count, in worker 0.
    const counts: number[] = [];
    const where = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      counts.push(Number(await httpCall(front, "Tally.next")));
      where.add(await httpCall(front, "Tally.where"));
    }
    assert.deepEqual(counts, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual([...where], ["switchboard serve worker 0"]);
    assert.equal(await running.stop(), 0, running.lines.join("\n"));
  } finally {
    await running.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
