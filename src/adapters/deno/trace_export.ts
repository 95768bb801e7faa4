/**
 * Tracing for a `Server` created with `trace`: a span per call with the RPC conventions,
 * exported by Switchboard itself over OTLP/HTTP (`src/observe/otlp_tracing.ts`, loaded
 * only then), or by Deno when the process runs with `OTEL_DENO=true`.
 *
 * @module
 */

import type { Router } from "../../core/router/router.ts";
import { instrument } from "../../observe/instrument.ts";
import type { OtlpExport, OtlpExportOptions } from "../../observe/otlp_options.ts";
import { denoTracing, otlpExportEnv } from "./observe_io.ts";

/**
 * Installs tracing on `router`; resolves with the running export (undefined when Deno
 * exports, or when the exporter could not start: then the error is reported once).
 * `options` win over the `OTEL_*` variables.
 */
export async function traceExport(
  router: Router,
  options: OtlpExportOptions,
): Promise<OtlpExport | undefined> {
  const deno = denoTracing();
  if (deno.exporting) {
    instrument(router, { tracing: deno });
    return undefined;
  }
  const settings = { ...otlpExportEnv(), ...options };
  try {
    const { startOtlpExport } = await import("../../observe/otlp_tracing.ts");
    const running = startOtlpExport(settings);
    instrument(router, { tracing: { exporting: true, sampler: settings.sampler } });
    return running;
  } catch (error) {
    console.error(`trace: the OTLP export did not start: ${error}`);
    return undefined;
  }
}
