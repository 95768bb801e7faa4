/**
 * Inside a component process (`--isolate process`): gives the process the worker scope the
 * component entry expects. Messages from the host arrive on stdin and are dispatched as
 * `message` events; `postMessage` writes to stdout. Each message is a frame of a 4-byte
 * big-endian length and the value in V8's serialization (the structured clone a Web Worker
 * uses, so dates, bytes, bigints and maps cross as they would into a worker). The console
 * writes to stderr, so the component's logging cannot break the frames; a component that
 * writes garbage to stdout itself only gets its own process replaced.
 *
 * Imported before `worker_entry.ts` by `process_entry.ts`.
 *
 * @module
 */

import { encodeFrame, readFrames } from "./frames.ts";

const stdout = Deno.stdout;
// The entry wraps Deno.exit to tell the host; the shim's own exits need no notice.
const exit = Deno.exit;
let writing = Promise.resolve();

/** Queues one frame on stdout (frames never interleave). */
function post(message: unknown): void {
  const frame = encodeFrame(message);
  writing = writing.then(async () => {
    for (let o = 0; o < frame.length;) o += await stdout.write(frame.subarray(o));
  }).catch(() => exit(1)); // the host is gone
}

const scope = globalThis as unknown as { postMessage(message: unknown): void };
scope.postMessage = post;

// Component logging goes to stderr: stdout carries the frames.
for (const level of ["log", "info", "debug"] as const) {
  console[level] = (...args: unknown[]) => console.error(...args);
}

/** Reads frames from stdin and dispatches each as a `message` event; exits at its end. */
async function readHostFrames(): Promise<void> {
  await readFrames(
    Deno.stdin.readable,
    (data) => globalThis.dispatchEvent(new MessageEvent("message", { data })),
  );
  exit(0); // the host closed the pipe: it no longer needs this process
}

// Started on the next tick, once the entry has added its listener.
setTimeout(readHostFrames, 0);
