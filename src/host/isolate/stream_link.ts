/**
 * The streams of the link between a host and a component (a Web Worker or a component
 * process), the same on both ends: core/stream's table, its messages carried as
 * {@linkcode StreamFrame}s by structured clone. The host's end is told when the component
 * breaks a promise of the protocol, which it treats as any other bad message.
 *
 * @module
 */

import type { StreamLimits, StreamMessage } from "../../core/stream/table.ts";
import { StreamTable } from "../../core/stream/table.ts";
import type { StreamFrame } from "./protocol.ts";

/** What one end of the link does with the table's frames. */
export interface ComponentLink {
  /** Posts a frame to the other end (may throw: a value that cannot be cloned). */
  post(frame: StreamFrame): void;
  /** Names the other end in errors. */
  label(): string;
  /** The other end broke the protocol (only the host's end listens). */
  violation?(problem: string): void;
}

/** The stream table of one end of a component link. */
export function componentStreams(
  link: ComponentLink,
  limits?: StreamLimits,
): StreamTable<StreamFrame> {
  return new StreamTable<StreamFrame>({
    encode: toFrame,
    write: (frame) => link.post(frame),
    label: () => link.label(),
    format: "a structured clone",
    ...(link.violation ? { violation: link.violation } : {}),
  }, limits);
}

/** Whether a message of the link is a stream frame. */
export function isStreamFrame(message: { type: string }): message is StreamFrame {
  return message.type.startsWith("stream.");
}

function toFrame(message: StreamMessage): StreamFrame {
  switch (message.kind) {
    case "credit":
      return { type: "stream.credit", stream: message.stream, n: message.n };
    case "cancel":
      return { type: "stream.cancel", stream: message.stream };
    case "item":
      return { type: "stream.item", stream: message.stream, seq: message.seq, item: message.item };
    case "end":
      return { type: "stream.end", stream: message.stream, count: message.count };
    case "error":
      return { type: "stream.error", stream: message.stream, error: message.error };
  }
}

/** A frame (already checked, on the host) as the table's message. */
export function fromFrame(frame: StreamFrame): StreamMessage {
  switch (frame.type) {
    case "stream.credit":
      return { kind: "credit", stream: frame.stream, n: frame.n };
    case "stream.cancel":
      return { kind: "cancel", stream: frame.stream };
    case "stream.item":
      return { kind: "item", stream: frame.stream, seq: frame.seq, item: frame.item };
    case "stream.end":
      return { kind: "end", stream: frame.stream, count: frame.count };
    case "stream.error":
      return { kind: "error", stream: frame.stream, error: frame.error };
  }
}
