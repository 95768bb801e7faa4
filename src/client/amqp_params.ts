/**
 * Stream params over AMQP travel whole: a call is one message, and a queue that any worker
 * may take it from has no way back to the caller before a worker took it. A live source
 * (an async generator, a `ReadableStream`) given for a `t.stream` param is read to its end
 * before the call is sent — at most `DEFAULT_MAX_STREAM_ITEMS` items, else the call fails
 * naming the limit, never with a cut list.
 *
 * @module
 */

import type { Fields } from "../core/idl/types.ts";
import { rpcError } from "../core/errors.ts";
import { DEFAULT_MAX_STREAM_ITEMS } from "../core/stream/collect.ts";
import { isStreamSource, iteratorOf } from "../core/stream/source.ts";

/** `params` with each live `t.stream` source read into an array (arrays go as they are). */
export async function wholeStreamParams(
  method: string,
  params: unknown,
  declared: Fields,
  limit = DEFAULT_MAX_STREAM_ITEMS,
): Promise<unknown> {
  if (typeof params !== "object" || params === null || Array.isArray(params)) return params;
  let out: Record<string, unknown> | undefined;
  for (const [name, type] of Object.entries(declared)) {
    if (type.kind !== "stream") continue;
    const source = (params as Record<string, unknown>)[name];
    if (!isStreamSource(source) || Array.isArray(source)) continue;
    const items: unknown[] = [];
    const iterator = iteratorOf(source);
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        if (items.length === limit) {
          throw rpcError(
            "InvalidParams",
            `${method}: over AMQP stream param ${name} is sent whole, and it has more than ${limit} items (limit ${limit})`,
          );
        }
        items.push(next.value);
      }
    } catch (error) {
      await iterator.return?.().catch(() => {});
      throw error;
    }
    (out ??= { ...params as Record<string, unknown> })[name] = items;
  }
  return out ?? params;
}
