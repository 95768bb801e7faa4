/**
 * The main thread's end of the known-call worker (see known_call_worker.ts).
 *
 * @module
 */

/** A job for the worker. */
export type KnownCallJob =
  | { kind: "http"; url: string; contentType: string; body: string; expect: string }
  | { kind: "tcp"; port: number; bytes: Uint8Array; msgid: number };

/** Makes known calls from a worker thread, one at a time. */
export class KnownCaller {
  readonly #worker = new Worker(new URL("./known_call_worker.ts", import.meta.url), {
    type: "module",
  });
  #queue: Promise<unknown> = Promise.resolve();

  /** Resolves with the call's latency in ms; rejects with what was wrong. */
  call(job: KnownCallJob): Promise<number> {
    const run = this.#queue.then(() =>
      new Promise<number>((resolve, reject) => {
        this.#worker.onmessage = (e: MessageEvent<{ ms?: number; error?: string }>) =>
          e.data.error === undefined ? resolve(e.data.ms!) : reject(new Error(e.data.error));
        this.#worker.postMessage(job);
      })
    );
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Stops the worker. */
  close(): void {
    this.#worker.terminate();
  }
}
