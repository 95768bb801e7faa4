/**
 * What a streamed method's handler may return, and the one way the producer reads it.
 *
 * @module
 */

/**
 * Whether `value` can be read as a stream: any `AsyncIterable`, a `ReadableStream`, or an
 * array (what a peer that cannot stream sends, and what a typed proxy may pass).
 */
export function isStreamSource(
  value: unknown,
): value is AsyncIterable<unknown> | ReadableStream | unknown[] {
  return typeof value === "object" && value !== null &&
    (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function" ||
      value instanceof ReadableStream || Array.isArray(value));
}

/** An iterator over a stream source (a `ReadableStream` without async iteration gets a reader). */
export function iteratorOf(
  source: AsyncIterable<unknown> | ReadableStream | unknown[],
): AsyncIterator<unknown> {
  if (Array.isArray(source)) {
    const items = source[Symbol.iterator]();
    return { next: () => Promise.resolve(items.next()) };
  }
  const iterable = source as AsyncIterable<unknown>;
  if (typeof iterable[Symbol.asyncIterator] === "function") {
    return iterable[Symbol.asyncIterator]();
  }
  const reader = (source as ReadableStream).getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<unknown>>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}
