/**
 * Where a server's log batches go when the reader on the other end cannot be trusted to
 * keep up: written asynchronously, one write at a time, with at most `maxQueuedBytes`
 * waiting. A reader that stalls (a full pipe) or goes away (a closed one) must not stall
 * or crash the server: past the bound, batches are dropped and counted, and once the queue
 * has drained a notice says how many lines were lost. A write that fails for good (the
 * reader closed the pipe) ends writing; everything after it counts as dropped.
 *
 * @module
 */

/** Options of a {@linkcode QueuedWriter}. */
export interface QueuedWriterOptions {
  /** Bytes that may wait for the reader before batches are dropped (default 8 MiB). */
  maxQueuedBytes?: number;
  /**
   * Told how many lines were dropped, once the queue has drained after dropping (the
   * notice itself may then be written through the same writer).
   */
  onDropped?: (lines: number) => void;
}

/** Lines in `bytes` (its newline bytes). */
function linesIn(bytes: Uint8Array): number {
  let lines = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) lines++;
  return lines;
}

/**
 * A bounded queue of batches in front of an asynchronous write.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueuedWriter } from "./log_writer.ts";
 *
 * const written: string[] = [];
 * const writer = new QueuedWriter(async (bytes) => {
 *   written.push(new TextDecoder().decode(bytes));
 *   return bytes.length;
 * });
 * writer.sink(new TextEncoder().encode("one\n"));
 * await writer.flush();
 * assert.deepEqual(written, ["one\n"]);
 * ```
 */
export class QueuedWriter {
  readonly #write: (bytes: Uint8Array) => Promise<number>;
  readonly #max: number;
  readonly #onDropped?: (lines: number) => void;
  #queue: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  #draining?: Promise<void>;
  #broken = false;
  #droppedLines = 0;
  #unreported = 0;

  /** A writer in front of `write` (which may write less than it is given). */
  constructor(write: (bytes: Uint8Array) => Promise<number>, options: QueuedWriterOptions = {}) {
    this.#write = write;
    this.#max = options.maxQueuedBytes ?? 8 * 1024 * 1024;
    this.#onDropped = options.onDropped;
  }

  /** Lines dropped so far (the reader was too slow, or gone). */
  get droppedLines(): number {
    return this.#droppedLines;
  }

  /**
   * Queues a copy of `bytes` (whole lines; the caller may reuse its array at once), or
   * drops it when the queue is full or writing has failed. Never blocks, never throws.
   */
  readonly sink = (bytes: Uint8Array): void => {
    if (this.#broken || this.#queued + bytes.length > this.#max) {
      const lines = linesIn(bytes);
      this.#droppedLines += lines;
      this.#unreported += lines;
      return;
    }
    this.#queue.push(bytes.slice());
    this.#queued += bytes.length;
    this.#draining ??= this.#drain();
  };

  /**
   * Resolves once everything queued is written (or dropped, if writing failed), or after
   * `ms` at most (a reader that never reads must not hold up a shutdown either); true when
   * nothing was left waiting.
   */
  async flush(ms = Infinity): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const gaveUp = new Promise<void>((resolve) => {
      if (ms !== Infinity) {
        timer = setTimeout(() => {
          timedOut = true;
          resolve();
        }, ms);
      }
    });
    try {
      while (this.#draining && !timedOut) await Promise.race([this.#draining, gaveUp]);
      return this.#draining === undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#head < this.#queue.length) {
        const batch = this.#queue[this.#head];
        for (let done = 0; done < batch.length;) {
          const n = await this.#write(batch.subarray(done));
          // A writer that takes nothing would be asked again forever.
          if (!(n > 0)) throw new Error(`log write took ${n} bytes`);
          done += n;
        }
        this.#queue[this.#head++] = EMPTY;
        this.#queued -= batch.length;
        if (this.#head === this.#queue.length) {
          this.#queue = [];
          this.#head = 0;
          this.#report();
        } else if (this.#head >= 1024) {
          // A reader that keeps up but never quite catches up: keep the array short.
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
      }
    } catch {
      // The reader is gone: nothing queued or to come can be written.
      this.#broken = true;
      for (let i = this.#head; i < this.#queue.length; i++) {
        const lines = linesIn(this.#queue[i]);
        this.#droppedLines += lines;
        this.#unreported += lines;
      }
      this.#queue = [];
      this.#head = 0;
      this.#queued = 0;
    } finally {
      this.#draining = undefined;
    }
    // A notice (or lines) queued while the last write was in flight.
    if (this.#head < this.#queue.length) this.#draining ??= this.#drain();
  }

  /** Tells of lines dropped since the last notice, now that the queue has room again. */
  #report(): void {
    if (this.#unreported === 0 || !this.#onDropped) return;
    const lines = this.#unreported;
    this.#unreported = 0;
    this.#onDropped(lines);
  }
}

const EMPTY = new Uint8Array(0);
