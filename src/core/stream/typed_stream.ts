/**
 * A typed proxy's streamed result: it calls the method on first read, checks every item
 * against the declared type, and cancels the producer on `break`, `return()`, `cancel()`
 * or the caller's signal.
 *
 * @module
 */

import { RpcError, rpcError } from "../errors.ts";
import type { RpcStream } from "../idl/types.ts";
import { type Check, ValidationError } from "../idl/validate.ts";
import { isStreamSource, iteratorOf } from "./source.ts";

/** Options of {@linkcode typedStream}. */
export interface TypedStreamOptions {
  /** `Interface.method`, for errors. */
  method: string;
  /** Checks one item. */
  check: Check;
  /** Cancels the stream when aborted. */
  signal?: AbortSignal;
  /** The error of an item that fails its check (default `InternalError`: a bad answer). */
  badItem?: "InternalError" | "InvalidParams";
}

/**
 * The stream `open()` resolves to (a transport's stream, or an array from a transport that
 * delivers the whole result at once), opened lazily and checked item by item.
 */
export function typedStream<T>(
  open: () => Promise<unknown>,
  options: TypedStreamOptions,
): RpcStream<T> {
  const { method, check, signal, badItem = "InternalError" } = options;
  let inner: AsyncIterator<unknown> | undefined;
  let opening: Promise<AsyncIterator<unknown>> | undefined;
  let seq = 0;
  let stopped: RpcError | undefined;
  let finished = false;

  const stop = async (reason: RpcError | undefined): Promise<void> => {
    if (finished) return;
    finished = true;
    stopped = reason;
    signal?.removeEventListener("abort", onAbort);
    const it = inner ?? await opening?.catch(() => undefined);
    await it?.return?.();
  };
  const onAbort = () =>
    void stop(
      signal!.reason instanceof RpcError
        ? signal!.reason
        : rpcError("Cancelled", `${method} was cancelled`),
    );
  signal?.addEventListener("abort", onAbort, { once: true });

  const start = async (): Promise<AsyncIterator<unknown>> => {
    const value = await open();
    if (isStreamSource(value)) return iteratorOf(value);
    throw rpcError("InternalError", `${method} answered something that is not a stream`);
  };

  const iterator: AsyncIterator<T> = {
    async next() {
      if (signal?.aborted && !finished) onAbort();
      if (finished) {
        if (stopped) throw stopped;
        return { done: true, value: undefined };
      }
      try {
        inner ??= await (opening ??= start());
        const next = await inner.next();
        if (finished) {
          if (stopped) throw stopped;
          return { done: true, value: undefined };
        }
        if (next.done) {
          finished = true;
          signal?.removeEventListener("abort", onAbort);
          return { done: true, value: undefined };
        }
        return { done: false, value: check(next.value, `item ${seq++}`) as T };
      } catch (error) {
        if (error instanceof ValidationError) {
          const bad = rpcError(badItem, `${method} sent a bad ${error.message}`);
          await stop(bad);
          throw bad;
        }
        finished = true;
        signal?.removeEventListener("abort", onAbort);
        throw error;
      }
    },
    async return() {
      await stop(undefined);
      return { done: true, value: undefined };
    },
  };

  const stream: RpcStream<T> = {
    [Symbol.asyncIterator]: () => iterator,
    cancel: () => stop(undefined),
    readable: () =>
      new ReadableStream<T>({
        pull: async (controller) => {
          try {
            const next = await iterator.next();
            if (next.done) controller.close();
            else controller.enqueue(next.value);
          } catch (error) {
            controller.error(error);
          }
        },
        cancel: () => stop(undefined),
      }, { highWaterMark: 0 }),
  };
  return stream;
}
