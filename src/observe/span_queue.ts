/**
 * Where ended spans wait for the exporter: a bounded queue sent in batches, one export at a
 * time, so that a slow or absent collector costs spans — dropped and counted, for
 * `/metrics` — never a blocked call or a queue that grows without bound. A call ending its
 * span only pushes it onto an array; the export runs later, off the call's path.
 *
 * The OpenTelemetry SDK has a batching processor of its own, but it keeps its count of
 * dropped spans private (it logs it and resets it), and a server must say in its metrics
 * what its tracing lost. This one implements the SDK's `SpanProcessor` interface over the
 * SDK's exporters, and counts both kinds of loss: a full queue, and a batch the exporter
 * gave up on (after its own retries).
 *
 * @module
 */

import type { Context } from "@opentelemetry/api";
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace";

/** Bounds of a {@linkcode SpanQueue}. */
export interface SpanQueueOptions {
  /** Spans that may wait; past it, ended spans are dropped (default 2048, as the SDK's). */
  maxQueueSize?: number;
  /** Spans per export request (default 512). */
  maxBatchSize?: number;
  /** How long a span waits for a batch to fill before it is sent anyway (default 1000 ms). */
  delayMs?: number;
}

/** What a queue has done so far. */
export interface SpanCounts {
  /** Spans the collector accepted. */
  exported: number;
  /** Spans lost: the queue was full, or the exporter gave up on their batch. */
  dropped: number;
  /** Spans waiting now. */
  queued: number;
}

/**
 * A bounded, batching span processor that never blocks the span's caller: ending a span
 * pushes it, and batches are encoded and sent from timers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SpanQueue } from "./span_queue.ts";
 *
 * const exporter = {
 *   export: (_spans: unknown[], done: (r: { code: number }) => void) => done({ code: 0 }),
 *   shutdown: () => Promise.resolve(),
 * };
 * const queue = new SpanQueue(exporter, { maxQueueSize: 2 });
 * for (let i = 0; i < 3; i++) queue.onEnd({} as never);
 * assert.equal(queue.counts().dropped, 1); // past the bound: dropped and counted
 * assert.equal(await queue.close(), true);
 * assert.equal(queue.counts().exported, 2);
 * ```
 */
export class SpanQueue implements SpanProcessor {
  readonly #exporter: SpanExporter;
  readonly #max: number;
  readonly #batch: number;
  readonly #delayMs: number;
  #queue: ReadableSpan[] = [];
  #exporting?: Promise<void>;
  #timer?: ReturnType<typeof setTimeout>;
  #closed = false;
  #exported = 0;
  #dropped = 0;
  /** Spans of the export request in flight. */
  #sending = 0;
  /** Set when a close gave up on the request in flight (its spans are counted dropped). */
  #abandoned = false;

  /** A queue in front of `exporter`. */
  constructor(exporter: SpanExporter, options: SpanQueueOptions = {}) {
    this.#exporter = exporter;
    this.#max = options.maxQueueSize ?? 2048;
    this.#batch = Math.min(options.maxBatchSize ?? 512, this.#max);
    this.#delayMs = options.delayMs ?? 1000;
  }

  /** Spans exported, dropped and waiting. */
  counts(): SpanCounts {
    return { exported: this.#exported, dropped: this.#dropped, queued: this.#queue.length };
  }

  /** Nothing to do when a span starts. */
  onStart(_span: Span, _parent: Context): void {}

  /** Queues an ended span, or counts it lost when the queue is full or closed. */
  onEnd(span: ReadableSpan): void {
    if (this.#closed || this.#queue.length >= this.#max) {
      this.#dropped++;
      return;
    }
    this.#queue.push(span);
    if (this.#exporting) return;
    if (this.#queue.length === this.#batch) {
      // A full batch goes out in a task of its own: encoding it is no call's work.
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = setTimeout(this.#onTimer, 0);
    } else this.#timer ??= setTimeout(this.#onTimer, this.#delayMs);
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (!this.#exporting) this.#startExport();
  };

  #startExport(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#exporting = this.#exportAll().finally(() => this.#exporting = undefined);
  }

  /** Sends batch after batch until the queue is empty (one request in flight at a time). */
  async #exportAll(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.length <= this.#batch
        ? this.#queue
        : this.#queue.slice(0, this.#batch);
      this.#queue = batch === this.#queue ? [] : this.#queue.slice(this.#batch);
      this.#sending = batch.length;
      const ok = await new Promise<boolean>((resolve) => {
        try {
          // ExportResultCode.SUCCESS is 0.
          this.#exporter.export(batch, (result) => resolve(result.code === 0));
        } catch {
          resolve(false);
        }
      });
      this.#sending = 0;
      if (this.#abandoned) return;
      if (ok) this.#exported += batch.length;
      else this.#dropped += batch.length;
      // While the collector is down, wait for the next timer rather than sending again at
      // once: the exporter has already retried this batch.
      if (!ok && !this.#closed) break;
    }
    if (this.#queue.length > 0 && !this.#closed) {
      this.#timer ??= setTimeout(this.#onTimer, this.#delayMs);
    }
  }

  /** Exports what is waiting now; resolves when the queue is empty (or export failed). */
  async forceFlush(): Promise<void> {
    while (this.#exporting) await this.#exporting;
    if (this.#queue.length > 0) {
      this.#startExport();
      await this.#exporting;
    }
  }

  /**
   * Stops taking spans and exports what is waiting, for at most `ms` (a collector that
   * does not answer must not hold up a shutdown): what is still unsent then is counted
   * dropped. True when everything was sent.
   */
  async close(ms = 5000): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<false>((resolve) => timer = setTimeout(resolve, ms, false));
    const flushed = this.forceFlush().then(() => true as const);
    this.#closed = true;
    try {
      const done = await Promise.race([flushed, gaveUp]);
      if (!done) {
        this.#dropped += this.#queue.length + this.#sending;
        this.#abandoned = true;
        this.#queue = [];
        return false;
      }
      // The exporter's own shutdown waits for its requests: bounded by the same deadline.
      await Promise.race([this.#exporter.shutdown().catch(() => {}), gaveUp]);
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The SDK's shutdown: {@linkcode SpanQueue.close} with its default bound. */
  async shutdown(): Promise<void> {
    await this.close();
  }
}
