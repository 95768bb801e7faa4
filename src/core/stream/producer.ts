/**
 * The producing end of a stream, the same on every transport: it takes the next item from
 * the handler's source only while the consumer's credit lasts, checks it, and hands it to
 * the transport's sink; it ends with exactly one `end` or `error`, unless cancelled.
 *
 * @module
 */

import { type ErrorShape, errorShape, RpcError, rpcError } from "../errors.ts";
import { ValidationError } from "../idl/validate.ts";
import type { OpenStream } from "./open_stream.ts";

/** Where a producer sends what it reads (a transport's messages, a local consumer, an array). */
export interface StreamSink {
  /** The item `seq` (counting from 0). May throw (an item too large): the stream then fails. */
  item(seq: number, item: unknown): void;
  /** The normal end, after `count` items. */
  end(count: number): void;
  /** The stream failed after the items sent. */
  error(error: ErrorShape): void;
  /**
   * Undefined when the sink can take another item now, else a promise of when it can (a
   * peer that does not read its socket holds the producer, whatever credit it granted).
   */
  ready?(): Promise<void> | undefined;
}

/** Options of a producer. */
export interface ProducerOptions {
  /** How long the producer waits for credit before it gives up (default 60 s; 0 = forever). */
  idleMs?: number;
  /** Called once when the stream is over, however it ended (to free its table entry). */
  finished?(): void;
}

/** Default of {@linkcode ProducerOptions.idleMs}. */
export const DEFAULT_STREAM_IDLE_MS = 60_000;
/** Credit beyond this is not counted (a consumer may grant "everything"). */
const MAX_CREDIT = 2 ** 31;

/** Pumps an open stream into a sink as credit allows. */
export class StreamProducer {
  readonly #open: OpenStream;
  readonly #sink: StreamSink;
  readonly #idleMs: number;
  readonly #finished?: () => void;
  #credit = 0;
  #seq = 0;
  #over = false;
  #wake?: () => void;

  /** A producer of `open` into `sink`; call {@linkcode StreamProducer.start}. */
  constructor(open: OpenStream, sink: StreamSink, options: ProducerOptions = {}) {
    this.#open = open;
    this.#sink = sink;
    this.#idleMs = options.idleMs ?? DEFAULT_STREAM_IDLE_MS;
    this.#finished = options.finished;
  }

  /** Items sent so far. */
  get sent(): number {
    return this.#seq;
  }

  /** Whether the stream is over (ended, failed or cancelled). */
  get over(): boolean {
    return this.#over;
  }

  /** Starts reading the source (it waits for credit first). */
  start(): void {
    void this.#pump();
  }

  /** The consumer may take `n` more items. */
  grant(n: number): void {
    if (this.#over || !(Number.isSafeInteger(n) && n > 0)) return;
    this.#credit = Math.min(MAX_CREDIT, this.#credit + n);
    this.#wake?.();
  }

  /** The consumer gave up (or its connection went): stop the handler, send nothing more. */
  cancel(reason: unknown = rpcError("Cancelled", `${this.#open.method} was cancelled`)): void {
    if (this.#over) return;
    this.#finish();
    this.#open.stop(reason);
    this.#wake?.();
  }

  #finish(): void {
    this.#over = true;
    this.#finished?.();
  }

  /** Fails the stream: the consumer hears `shape`, the handler is stopped. */
  #fail(shape: ErrorShape): void {
    if (this.#over) return;
    this.#finish();
    this.#sink.error(shape);
    this.#open.stop(new RpcError(shape));
  }

  async #pump(): Promise<void> {
    const open = this.#open;
    try {
      for (;;) {
        if (this.#credit === 0 && !(await this.#creditCame())) return;
        const ready = this.#sink.ready?.();
        if (ready) await ready;
        if (this.#over) return;
        const next = await open.iterator.next();
        if (this.#over) return;
        if (next.done) {
          this.#finish();
          this.#sink.end(this.#seq);
          return;
        }
        const seq = this.#seq;
        const item = open.check(next.value, `item ${seq}`);
        this.#credit--;
        this.#seq++;
        this.#sink.item(seq, item);
      }
    } catch (error) {
      if (this.#over) return;
      if (error instanceof ValidationError) {
        this.#fail(errorShape("InternalError", `${open.method} yielded a bad ${error.message}`));
      } else {
        this.#fail(open.errorShape(error));
      }
    }
  }

  /** Waits for credit; false once the stream is over or the consumer stayed silent too long. */
  #creditCame(): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      this.#wake = () => {
        this.#wake = undefined;
        if (timer !== undefined) clearTimeout(timer);
        resolve(!this.#over);
      };
      if (this.#idleMs > 0) {
        timer = setTimeout(() => {
          this.#wake = undefined;
          this.#fail(
            errorShape(
              "Timeout",
              `${this.#open.method}: the consumer granted no credit for ${this.#idleMs} ms; stream ended`,
            ),
          );
          resolve(false);
        }, this.#idleMs);
      }
    });
  }
}
