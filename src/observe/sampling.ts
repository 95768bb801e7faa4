/**
 * Head sampling decided before any span exists. Deno's OpenTelemetry makes a recording
 * span (a cost on every call) even when its sampler drops it, so Switchboard asks the same
 * question first — from the sampler the process was started with (`OTEL_TRACES_SAMPLER`)
 * and the sampled flag of the parent — and makes no span at all for a trace that will
 * not be exported.
 *
 * @module
 */

/** How the process samples, as OpenTelemetry's `OTEL_TRACES_SAMPLER` names it. */
export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";

const NAMES: readonly SamplerName[] = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
];

/** A head-sampling decision: given the parent's sampled flag (if any), make a span? */
export interface HeadSampler {
  /** True when no span can ever be sampled (nothing need be installed). */
  readonly never: boolean;
  /**
   * Whether to make a span under a parent whose sampled flag is `parentSampled`
   * (undefined: a root span). A ratio sampler answers true: the SDK decides per trace.
   */
  sample(parentSampled: boolean | undefined): boolean;
}

/**
 * The decision of sampler `name` (OpenTelemetry's default, `parentbased_always_on`, when
 * absent or unknown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { headSampler } from "./sampling.ts";
 *
 * assert.equal(headSampler("always_off").never, true);
 * assert.equal(headSampler(undefined).sample(false), false); // parent not sampled
 * assert.equal(headSampler(undefined).sample(undefined), true); // a root: sampled
 * assert.equal(headSampler("parentbased_always_off").sample(undefined), false);
 * ```
 */
export function headSampler(name: string | undefined): HeadSampler {
  const sampler: SamplerName = NAMES.includes(name as SamplerName)
    ? name as SamplerName
    : "parentbased_always_on";
  switch (sampler) {
    case "always_off":
      return { never: true, sample: () => false };
    case "always_on":
    case "traceidratio":
      return { never: false, sample: () => true };
    case "parentbased_always_off":
      return { never: false, sample: (parent) => parent === true };
    default:
      return { never: false, sample: (parent) => parent !== false };
  }
}

/** The sampled flag of a W3C `traceparent` (`00-<trace>-<parent>-<flags>`). */
export function sampledFlag(traceparent: string): boolean {
  return (parseInt(traceparent.slice(53, 55), 16) & 1) === 1;
}
