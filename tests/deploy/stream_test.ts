// A stream through a three-process deployment (a front, and two processes, one handing on
// through ctx.client what the other streams from a worker component), over HTTP NDJSON and TCP msgpack-rpc into the
// front: a slow reader holds the far producer within the windows of what it read, a cancel
// at the reader's end reaches the far producer (its signal aborts, its finally runs), and a
// far process that dies mid-stream fails the reader with Unavailable after its items.
import assert from "node:assert/strict";
import { connect } from "../../mod.ts";
import "../../src/adapters/deno/tcp_client.ts";
import { MAX_STREAM_WINDOW } from "../../src/core/stream/consumer.ts";
import { deploy, freePorts, until } from "./helpers.ts";
import { Far } from "./fixtures/far_stream.ts";
import { Near } from "./fixtures/near_stream.ts";

const FAR = new URL("./fixtures/far_stream.ts", import.meta.url).href;
const NEAR = new URL("./fixtures/near_stream.ts", import.meta.url).href;

async function deployment(dir: string) {
  const [far, near, http, tcp, status] = freePorts(5);
  const value = {
    name: "streams",
    processes: {
      // The producer runs in a worker of its process: one more link with its own credit.
      far: {
        components: [FAR],
        placement: "worker",
        listen: [{ tcp: `127.0.0.1:${far}` }],
        public: ["Far"],
      },
      near: { components: [NEAR], listen: [{ tcp: `127.0.0.1:${near}` }], public: ["Near"] },
      front: { front: [{ http: `127.0.0.1:${http}` }, { tcp: `127.0.0.1:${tcp}` }] },
    },
    status: `127.0.0.1:${status}`,
  };
  const path = `${dir}/deployment.json`;
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2));
  return { path, http: `http://127.0.0.1:${http}`, tcp: `tcp://127.0.0.1:${tcp}` };
}

async function* values() {
  for (let i = 1; i <= 200; i++) yield i;
}

const pause = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("deploy streams: through the front and a ctx.client hop, with credit and cancel end to end", async () => {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-streams-" });
  const file = await deployment(dir);
  const running = deploy([file.path]);
  const tcp = connect(file.tcp, { timeout: 20_000 });
  const http = connect(file.http, { timeout: 20_000 });
  try {
    await running.ready();
    const far = tcp.proxy(Far);
    const finished = async (n: number) => {
      await until(`the far producer's finally (${n})`, async () => {
        const s = await far.state();
        return s.finished >= n ? s : undefined;
      });
      return await far.state();
    };

    // TCP into the front: a slow reader. Four windows lie between it and the producer
    // (reader ← front ← near ← far ← its worker), and nothing more is made.
    const iterator = tcp.proxy(Near).relay()[Symbol.asyncIterator]();
    let read = 0;
    for (; read < 5; read++) await iterator.next();
    await pause();
    const bound = () => read + 5 * MAX_STREAM_WINDOW;
    let { produced } = await far.state();
    assert.ok(produced <= bound(), `produced ${produced} after ${read} read`);
    for (; read < 100; read++) assert.equal((await iterator.next()).value, `item ${read}`);
    await pause();
    ({ produced } = await far.state());
    assert.ok(produced >= read && produced <= bound(), `produced ${produced} after ${read}`);
    // Cancelled at the reader's end: the far process's generator ends.
    await iterator.return!();
    let state = await finished(1);
    assert.equal(state.aborted, "Cancelled");

    // HTTP NDJSON into the front: break ends the far producer too.
    let got = 0;
    for await (const item of http.proxy(Near).relay()) {
      assert.equal(item, `item ${got}`);
      if (++got === 20) break;
    }
    state = await finished(2);
    assert.equal(state.aborted, "Cancelled");
    assert.ok(state.produced < 100_000, `produced ${state.produced}`);

    // A stream param crosses the front and the hop, item by item.
    assert.equal(await tcp.proxy(Near).sumVia({ values: values() }), 20_100);
    // And straight to the far process through the front.
    assert.equal(await tcp.proxy(Far).sum({ values: values() }), 20_100);

    // The far process dies mid-stream: the reader gets the items it was sent, then
    // Unavailable (never a normal end), across the front and the hop.
    const status = await running.ready();
    const farPid = status.processes.find((p) => p.name === "far")!.pid!;
    const cut = http.proxy(Near).relay()[Symbol.asyncIterator]();
    for (let i = 0; i < 10; i++) assert.equal((await cut.next()).value, `item ${i}`);
    Deno.kill(farPid, "SIGKILL");
    await assert.rejects(async () => {
      for (let i = 10; i < 100_000; i++) assert.equal((await cut.next()).value, `item ${i}`);
    }, (error: Error) => {
      assert.equal(error.name, "Unavailable", error.message);
      return true;
    });
  } finally {
    await tcp.close();
    await http.close();
    const code = await running.stop();
    if (code !== 0) console.error(running.lines.join("\n"));
    await Deno.remove(dir, { recursive: true });
  }
});
