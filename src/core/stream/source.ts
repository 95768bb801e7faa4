/**
 * What a streamed method's handler may return, and the one way the producer reads it.
 *
 * @module
 */

/** Whether `value` is something a `t.stream` handler may return. */
export function isStreamSource(value: unknown): value is AsyncIterable<unknown> | ReadableStream {
  return typeof value === "object" && value !== null &&
    (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function" ||
      value instanceof ReadableStream);
}

/** An iterator over a stream source (a `ReadableStream` without async iteration gets a reader). */
export function iteratorOf(
  source: AsyncIterable<unknown> | ReadableStream,
): AsyncIterator<unknown> {
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
