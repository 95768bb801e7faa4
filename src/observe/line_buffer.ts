/**
 * Log lines gathered as UTF-8 in one reused buffer and handed to a sink in batches (at
 * most every `everyMs`, or at once when 64 KiB are waiting): one write per batch, no
 * array per batch, and the common access-log line written as bytes without a string ever
 * being made (at hundreds of thousands of calls a second, building and encoding a string
 * per line costs more than the rest of the log).
 *
 * @module
 */

/** Bytes gathered before a batch is written whatever the time. */
const BATCH_BYTES = 65536;
/** The buffer's usual size: a batch and room for the line that completes it. */
const SIZE = BATCH_BYTES + 4096;

const encoder = new TextEncoder();

/** `text` as UTF-8 (for the constant parts of lines). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The two ASCII digits of 0 … 99, at `2 * n` and `2 * n + 1`. */
const PAIRS = utf8(Array.from({ length: 100 }, (_, n) => String(n).padStart(2, "0")).join(""));

/** Writes the decimal digits of `n` (0 to 2^31 - 1) at `at`; returns where they end. */
function writeUint(buffer: Uint8Array, at: number, n: number): number {
  const digits = n < 100
    ? (n < 10 ? 1 : 2)
    : n < 10000
    ? (n < 1000 ? 3 : 4)
    : n < 1000000
    ? (n < 100000 ? 5 : 6)
    : n < 100000000
    ? (n < 10000000 ? 7 : 8)
    : (n < 1000000000 ? 9 : 10);
  const end = at + digits;
  let i = end;
  // Two digits a step: half the divisions of one a step.
  while (n >= 100) {
    const next = (n / 100) | 0;
    const pair = (n - next * 100) * 2;
    buffer[--i] = PAIRS[pair + 1];
    buffer[--i] = PAIRS[pair];
    n = next;
  }
  if (n >= 10) {
    buffer[--i] = PAIRS[n * 2 + 1];
    buffer[--i] = PAIRS[n * 2];
  } else {
    buffer[--i] = 48 + n;
  }
  return end;
}

/**
 * A buffer of whole lines for a synchronous sink.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineBuffer, utf8 } from "./line_buffer.ts";
 *
 * const out: string[] = [];
 * const lines = new LineBuffer((bytes) => out.push(new TextDecoder().decode(bytes)));
 * lines.bytes(utf8('{"n":'));
 * lines.uint(42);
 * lines.bytes(utf8("}\n"));
 * lines.text("second\n");
 * lines.flush();
 * assert.deepEqual(out, ['{"n":42}\nsecond\n']);
 * ```
 */
export class LineBuffer {
  readonly #sink: (bytes: Uint8Array) => void;
  readonly #everyMs: number;
  #buffer = new Uint8Array(SIZE);
  #length = 0;
  #timer?: ReturnType<typeof setTimeout>;

  /**
   * Lines for `sink`, which gets views of a buffer that is reused once it returns (write
   * them synchronously), at most `everyMs` after a line was added.
   */
  constructor(sink: (bytes: Uint8Array) => void, everyMs = 50) {
    this.#sink = sink;
    this.#everyMs = everyMs;
  }

  /** Room for `n` more bytes: writes what is waiting first when it would not fit. */
  #room(n: number): void {
    if (this.#length + n <= this.#buffer.length) return;
    this.flush();
    if (n > this.#buffer.length) this.#buffer = new Uint8Array(n);
  }

  /** Ends a line's additions: a batch is written when large, or scheduled. */
  #added(): void {
    if (this.#length >= BATCH_BYTES) this.flush();
    else this.#timer ??= setTimeout(this.#flushLater, this.#everyMs);
  }

  /**
   * Starts a line of at most `n` bytes made of parts ({@linkcode LineBuffer.bytes},
   * {@linkcode LineBuffer.uint}, …, then {@linkcode LineBuffer.end}): a batch is never cut
   * inside a line, so each write holds whole lines.
   */
  begin(n: number): void {
    this.#room(n);
  }

  /** Appends `bytes`. */
  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    this.#room(n);
    if (n > 32) {
      this.#buffer.set(bytes, this.#length);
      this.#length += n;
      return;
    }
    // A loop copies a few bytes faster than `set`, whose own checks cost more than that.
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < n; i++) buffer[at++] = bytes[i];
    this.#length = at;
  }

  /** Appends the decimal digits of `n`, a whole number from 0 to 2^31 - 1. */
  uint(n: number): void {
    this.#room(10);
    const buffer = this.#buffer;
    let digits = 1;
    for (let m = n; m >= 10; m = (m / 10) | 0) digits++;
    let at = this.#length + digits;
    this.#length = at;
    do {
      const next = (n / 10) | 0;
      buffer[--at] = 48 + n - next * 10;
      n = next;
    } while (n > 0);
  }

  /** Appends `n` thousandths as a decimal (`12` → `0.012`, `1500` → `1.5`), JSON's form. */
  thousandths(n: number): void {
    const whole = (n / 1000) | 0;
    this.uint(whole);
    let fraction = n - whole * 1000;
    if (fraction === 0) return;
    this.#room(4);
    const buffer = this.#buffer;
    buffer[this.#length++] = 46; // "."
    for (let unit = 100; fraction > 0; unit /= 10) {
      const digit = (fraction / unit) | 0;
      buffer[this.#length++] = 48 + digit;
      fraction -= digit * unit;
    }
  }

  /** Ends a line made of parts. */
  end(): void {
    this.#added();
  }

  /**
   * Appends the line `head` + `id` + `middle` + `micros` as thousandths + `tail` in one
   * step: the common access-log line. `id` and `micros` are whole numbers from 0 to 2^31 - 1.
   * One bounds check and one pass over the buffer, where the same line made of parts pays
   * a call, a bounds check and the buffer's fields for each of its six parts.
   */
  numbersLine(
    head: Uint8Array,
    id: number,
    middle: Uint8Array,
    micros: number,
    tail: Uint8Array,
  ): void {
    // Two numbers of at most ten digits, a point and three decimals.
    this.#room(head.length + middle.length + tail.length + 24);
    const buffer = this.#buffer;
    let at = this.#length;
    buffer.set(head, at);
    at += head.length;
    at = writeUint(buffer, at, id);
    for (let i = 0; i < middle.length; i++) buffer[at++] = middle[i];
    const whole = (micros / 1000) | 0;
    at = writeUint(buffer, at, whole);
    let fraction = micros - whole * 1000;
    if (fraction !== 0) {
      buffer[at++] = 46; // "."
      for (let unit = 100; fraction > 0; unit /= 10) {
        const digit = (fraction / unit) | 0;
        buffer[at++] = 48 + digit;
        fraction -= digit * unit;
      }
    }
    for (let i = 0; i < tail.length; i++) buffer[at++] = tail[i];
    this.#length = at;
    this.#added();
  }

  /** Appends a whole line (or lines) of text. */
  text(text: string): void {
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    this.#room(text.length * 3);
    const { written } = encoder.encodeInto(text, this.#buffer.subarray(this.#length));
    this.#length += written;
    this.#added();
  }

  /** Writes what is waiting now. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#length === 0) return;
    const bytes = this.#buffer.subarray(0, this.#length);
    this.#length = 0;
    this.#sink(bytes);
    // A buffer grown for one huge line (a caller's long method name) goes with it.
    if (this.#buffer.length > SIZE) this.#buffer = new Uint8Array(SIZE);
  }

  readonly #flushLater = (): void => {
    this.#timer = undefined;
    this.flush();
  };
}
