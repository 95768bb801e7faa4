// The access log's writer to stdout: a reader that stalls or goes away costs lines
// (counted, reported once it catches up), never a stalled or crashed server — in unit
// tests, and against a real `serve` whose stdout pipe is not read, then closed.

import assert from "node:assert/strict";
import { QueuedWriter } from "../../src/observe/log_writer.ts";
import { connect } from "../../src/client/connect.ts";
import "../../src/adapters/deno/all_transports.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const lines = (n: number, tag = "x") =>
  encode(Array.from({ length: n }, (_, i) => `${tag}${i}\n`).join(""));

Deno.test("log writer: a stalled reader fills the bound, then lines are dropped and reported", async () => {
  const written: string[] = [];
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => release = resolve);
  const reports: number[] = [];
  const writer = new QueuedWriter(async (bytes) => {
    await stalled;
    written.push(new TextDecoder().decode(bytes));
    return bytes.length;
  }, { maxQueuedBytes: 100, onDropped: (n) => reports.push(n) });
  const batch = lines(5); // 15 bytes
  for (let i = 0; i < 10; i++) writer.sink(batch); // 6 fit in 100 bytes, 4 do not
  assert.equal(writer.droppedLines, 20);
  // The caller's array is copied: reusing it does not change what is written.
  batch.fill(0x21);
  assert.equal(await writer.flush(50), false, "nothing can be written while stalled");
  release();
  assert.equal(await writer.flush(), true);
  assert.equal(written.join(""), new TextDecoder().decode(lines(5)).repeat(6));
  assert.deepEqual(reports, [20]);
});

Deno.test("log writer: short writes are continued; a failed write drops the rest, never throws", async () => {
  const written: string[] = [];
  let fail = false;
  const writer = new QueuedWriter((bytes) => {
    if (fail) return Promise.reject(new Error("broken pipe"));
    const n = Math.min(3, bytes.length);
    written.push(new TextDecoder().decode(bytes.subarray(0, n)));
    return Promise.resolve(n);
  });
  writer.sink(lines(4, "ab"));
  await writer.flush();
  assert.equal(written.join(""), "ab0\nab1\nab2\nab3\n");
  fail = true;
  writer.sink(lines(3));
  await writer.flush();
  writer.sink(lines(2)); // after the failure: dropped at once
  assert.equal(writer.droppedLines, 5);
});

/** Starts `serve` with the access log on and returns its URL, reading stdout only that far. */
async function serveUnread() {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "serve", "--http", "127.0.0.1:0", "--tcp", "127.0.0.1:0"],
    cwd: new URL("../..", import.meta.url),
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  const decoder = new TextDecoder();
  while (!/^serving /m.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`serve exited:\n${text}`);
    text += decoder.decode(value, { stream: true });
  }
  const url = /listening on (http:\/\/\S+)/.exec(text)![1];
  return { child, reader, url };
}

Deno.test({
  name: "log writer: serve answers on while nobody reads its stdout, and after the pipe is closed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { child, reader, url } = await serveUnread();
    const client = connect(url);
    try {
      // ~1,500 lines of access log: far more than a pipe holds (64 KiB) unread.
      const calls = async (n: number) => {
        for (let i = 0; i < n; i += 100) {
          const batch = Array.from(
            { length: 100 },
            () => client.call("Calculator.add", { a: 1, b: 2 }),
          );
          assert.deepEqual(await Promise.all(batch), Array(100).fill(3));
        }
      };
      const inTime = (what: Promise<void>, ms: number) =>
        Promise.race([
          what,
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`stalled: not done in ${ms} ms`)), ms)
          ),
        ]);
      await inTime(calls(1500), 30_000);
      // The reader goes away: writes fail from now on; the server must carry on.
      await reader.cancel();
      await inTime(calls(1500), 30_000);
    } finally {
      await client.close();
      // SIGKILL: a server stuck writing to a full pipe could not run its SIGTERM handler.
      child.kill("SIGKILL");
      await child.status;
    }
  },
});

Deno.test("log writer: a write that takes nothing ends writing instead of spinning", async () => {
  let calls = 0;
  const writer = new QueuedWriter(() => {
    calls++;
    return Promise.resolve(0);
  });
  writer.sink(lines(3));
  assert.equal(await writer.flush(1000), true);
  assert.equal(calls, 1);
  assert.equal(writer.droppedLines, 3);
});
