/**
 * The options and handle of Switchboard's own OTLP span export (`otlp_tracing.ts`), apart
 * from it so that naming them loads none of the SDK it imports.
 *
 * @module
 */

import type { SpanCounts, SpanQueueOptions } from "./span_queue.ts";

/** Where and how spans are exported. */
export interface OtlpExportOptions {
  /**
   * The traces endpoint, `/v1/traces` included (default: what the standard variables say,
   * read by the SDK's exporter).
   */
  url?: string;
  /** `http/protobuf` (default, as the OTLP spec's) or `http/json`. */
  protocol?: string;
  /** `OTEL_TRACES_SAMPLER`'s value (default `parentbased_always_on`). */
  sampler?: string;
  /** `OTEL_TRACES_SAMPLER_ARG`: the ratio of the `*traceidratio` samplers (default 1). */
  samplerArg?: string;
  /** Bounds of the queue in front of the exporter. */
  queue?: SpanQueueOptions;
}

/** A running export. */
export interface OtlpExport {
  /** Spans exported, dropped and waiting so far. */
  counts(): SpanCounts;
  /**
   * Sends what is waiting, for at most `ms`, and stops exporting; true when everything
   * was sent.
   */
  close(ms?: number): Promise<boolean>;
}
