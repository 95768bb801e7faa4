/**
 * Makes the known call from its own thread, so that its latency is the server's and not
 * the time the fuzzer's main thread spends generating and checking inputs.
 *
 * Messages in: `{ kind: "http", url, path, contentType, body, expect }` or
 * `{ kind: "tcp", port, bytes, msgid }`; out: `{ ms }` or `{ error }`.
 *
 * @module
 */

import { decodeMessage } from "../../src/wire/msgpackrpc/codec.ts";

type Job =
  | { kind: "http"; url: string; contentType: string; body: string; expect: string }
  | { kind: "tcp"; port: number; bytes: Uint8Array; msgid: number };

let tcp: Deno.Conn | undefined;

async function tcpCall(job: Extract<Job, { kind: "tcp" }>): Promise<void> {
  tcp ??= await Deno.connect({ hostname: "127.0.0.1", port: job.port });
  for (let done = 0; done < job.bytes.length;) done += await tcp.write(job.bytes.subarray(done));
  const buf = new Uint8Array(4096);
  let have = 0;
  for (;;) {
    const n = await tcp.read(buf.subarray(have));
    if (n === null) throw new Error("connection dropped");
    have += n;
    try {
      const m = decodeMessage(buf.subarray(0, have));
      if (m.type !== 1 || m.msgid !== job.msgid || m.error != null || m.result !== 5) {
        throw new Error(`known call answered ${JSON.stringify(m)}`);
      }
      return;
    } catch (error) {
      if (have > 100 || !/not msgpack/.test(String(error))) throw error;
    }
  }
}

/** This worker's global scope (the file is checked with the window typings too). */
const scope = self as unknown as {
  onmessage: ((event: MessageEvent<Job>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = async (event: MessageEvent<Job>) => {
  const job = event.data;
  const started = performance.now();
  try {
    if (job.kind === "http") {
      const response = await fetch(job.url, {
        method: "POST",
        headers: { "content-type": job.contentType },
        body: job.body,
      });
      const text = await response.text();
      if (response.status !== 200 || !text.includes(job.expect)) {
        throw new Error(`known call answered ${response.status} ${text.slice(0, 200)}`);
      }
    } else {
      await tcpCall(job);
    }
    scope.postMessage({ ms: performance.now() - started });
  } catch (error) {
    try {
      tcp?.close();
    } catch {
      // already closed
    }
    tcp = undefined;
    scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
};
