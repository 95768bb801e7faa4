/**
 * Replays the inputs of a saved fuzz artifact one at a time against a fresh server, and
 * says for each how the server answered and how long it took, so that the input behind a
 * crash, hang or odd answer can be found.
 *
 * Usage: deno run -A scripts/fuzz/replay.ts test-artifacts/fuzz/<dir> [timeout-ms]
 *
 * @module
 */

import { ServerChild } from "./child.ts";
import { PipelinedHttp } from "./http_client.ts";

const [dir, timeoutArg] = Deno.args;
const timeout = Number(timeoutArg ?? 10_000);
const meta = JSON.parse(await Deno.readTextFile(`${dir}/meta.json`));
let server = await ServerChild.start();
for (const input of meta.inputs as { file: string; target: string; note?: string }[]) {
  const bytes = await Deno.readFile(`${dir}/${input.file}`);
  const started = performance.now();
  let outcome: string;
  if (input.target.startsWith("/")) {
    const url = new URL(server.info.http);
    const http = new PipelinedHttp(url.hostname, Number(url.port));
    const ex = await http.exchange([{
      path: input.target,
      contentType: input.note ?? "application/json",
      body: bytes,
    }], timeout);
    http.close();
    const r = ex.responses[0];
    outcome = r
      ? `HTTP ${r.status} ${r.body.slice(0, 160)}`
      : ex.timedOut
      ? "NO ANSWER"
      : "dropped";
  } else {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.info.tcpPort });
    await conn.write(bytes).catch(() => {});
    const buf = new Uint8Array(1 << 16);
    const timer = setTimeout(() => conn.close(), timeout);
    let total = 0;
    try {
      for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) total += n;
      outcome = `closed by server after ${total} reply bytes`;
    } catch {
      outcome = `${total} reply bytes, then closed by replay after ${timeout} ms`;
    }
    clearTimeout(timer);
  }
  const ms = (performance.now() - started).toFixed(0);
  console.log(`${input.file} (${bytes.length} B) ${ms} ms: ${outcome.replaceAll("\n", " ")}`);
  if (server.exit) {
    console.log(
      `  the server exited: ${JSON.stringify(server.exit)}\n  ${server.tail.join("\n  ")}`,
    );
    server = await ServerChild.start();
  }
}
await server.stop();
