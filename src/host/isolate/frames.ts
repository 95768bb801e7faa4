/**
 * The frames between a host and a component process (`--isolate process`), both ends: a
 * 4-byte big-endian length, then the value in V8's serialization (the structured clone a
 * Web Worker uses). The component is untrusted: a frame may claim at most
 * {@linkcode MAX_FRAME_BYTES}, and a longer claim (or bytes that do not deserialize) is an
 * error for the reader, never memory spent waiting for it.
 *
 * @module
 */

import { deserialize, serialize } from "node:v8";

/** The largest frame either end accepts (a call's params or result). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** One value as a frame. */
export function encodeFrame(value: unknown): Uint8Array {
  const body = serialize(value);
  const frame = new Uint8Array(4 + body.byteLength);
  new DataView(frame.buffer).setUint32(0, body.byteLength);
  frame.set(body, 4);
  return frame;
}

/**
 * Reads frames from `chunks` and hands each value to `onValue`, until the stream ends.
 * Throws on a frame over the limit or one that does not deserialize. Bytes are copied
 * once into a buffer that doubles as needed (not once per chunk).
 */
export async function readFrames(
  chunks: AsyncIterable<Uint8Array>,
  onValue: (value: unknown) => void,
): Promise<void> {
  let buffer = new Uint8Array(64 * 1024);
  let start = 0, end = 0;
  for await (const chunk of chunks) {
    if (buffer.length - end < chunk.length) {
      // Move what is pending to the front, into a larger buffer when it does not fit.
      const pending = end - start;
      if (pending + chunk.length > buffer.length) {
        const grown = new Uint8Array((pending + chunk.length) * 2);
        grown.set(buffer.subarray(start, end));
        buffer = grown;
      } else {
        buffer.copyWithin(0, start, end);
      }
      start = 0;
      end = pending;
    }
    buffer.set(chunk, end);
    end += chunk.length;
    while (end - start >= 4) {
      const size = new DataView(buffer.buffer, buffer.byteOffset + start, 4).getUint32(0);
      if (size > MAX_FRAME_BYTES) {
        throw new RangeError(`a frame of ${size} bytes exceeds the limit of ${MAX_FRAME_BYTES}`);
      }
      if (end - start < 4 + size) break;
      // A copy: deserialized byte arrays may be views of their input, which is reused.
      const value = deserialize(buffer.slice(start + 4, start + 4 + size));
      start += 4 + size;
      onValue(value);
    }
    if (start === end) start = end = 0;
  }
}
