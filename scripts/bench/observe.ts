/**
 * The cost of observability, for `deno task bench --only observe`: the same Switchboard
 * server plain, with metrics and the access log on, with tracing on but no sampled span
 * (Deno's OpenTelemetry on, its sampler `always_off`), and with `--trace` exporting itself
 * (no `OTEL_DENO`) under a sampler that makes no root span (`parentbased_always_off`: the
 * tracing is installed and asked on every call, and nothing is sampled), in the JSON-RPC
 * (32 callers) and pipelined msgpack-rpc (64 in flight) `add` cells. And, to tell Deno's share of tracing's cost from Switchboard's, a
 * bare `Deno.serve` handler with OpenTelemetry off and on (Deno makes a span per request
 * whenever its tracing is on, sampled or not; nothing turns that off).
 *
 * @module
 */

/** Row labels of the four servers. */
export const PLAIN = "Switchboard";
export const OBSERVED = "Switchboard + metrics + access log";
export const TRACED = "Switchboard + tracing (none sampled)";
export const TRACED_BARE = "Switchboard + --trace, own export (none sampled)";

/** Row labels of the bare `Deno.serve` handler, OpenTelemetry off and on. */
export const DENO_ALONE = "Deno.serve alone";
export const DENO_ALONE_TRACED = "Deno.serve alone + OTEL_DENO (none sampled)";

// Deno's OpenTelemetry on, every trace dropped by the sampler; the exporter points at a
// closed port (nothing is sent: no span is sampled).
const otel = [
  "env",
  "OTEL_DENO=true",
  "OTEL_TRACES_SAMPLER=always_off",
  "OTEL_DENO_CONSOLE=ignore",
  "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
];

// Switchboard's own export installed, no root span sampled; the collector address is closed.
const ownExport = [
  "env",
  "OTEL_TRACES_SAMPLER=parentbased_always_off",
  "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
];

/** The bare handler's two commands, given its plain one (`deno run … bare_http.ts`). */
export function denoAloneCommands(bare: string[]): { name: string; cmd: string[] }[] {
  return [{ name: DENO_ALONE, cmd: bare }, { name: DENO_ALONE_TRACED, cmd: [...otel, ...bare] }];
}

/** The four commands, given the plain one (`deno run … switchboard_server.ts`). */
export function observeCommands(plain: string[]): { name: string; cmd: string[] }[] {
  return [
    { name: PLAIN, cmd: plain },
    { name: OBSERVED, cmd: [...plain, "--metrics", "--log"] },
    { name: TRACED, cmd: [...otel, ...plain, "--trace"] },
    { name: TRACED_BARE, cmd: [...ownExport, ...plain, "--trace"] },
  ];
}

/** The cells compared: `[suite, label of the load]`. */
export const OBSERVE_CELLS = [
  ["observe-http", "32 callers", "JSON-RPC/HTTP add, 32 callers"],
  ["observe-tcp", "64 in flight, 1 conn", "msgpack-rpc/TCP add, 64 in flight"],
] as const;
