/**
 * Instructions per call of the observers alone: `Bench.add` dispatched in-process through a
 * router plain, with metrics and the access log on (`observed`, the log written to
 * /dev/null through the bounded queue `serve` uses), or with Switchboard's own trace export
 * installed and nothing sampled (`traced`); `metrics` and `log` split `observed` in two. Each mode runs under valgrind's callgrind
 * twice, with N and 3N calls, single-threaded V8; the difference divided by 2N is the
 * per-call count with start-up and warm-up cancelled out. No socket, no load generator:
 * it counts what observing adds to a call (compare modes), not what a call costs over a
 * transport (see instructions.ts). Needs `valgrind`; a few minutes per mode and checkout.
 *
 * `deno run -A scripts/bench/observer_instructions.ts [--modes plain,observed,traced]
 *   [--per-turn 64] [--calls 100000] [--baseline DIR]`
 *
 * `--per-turn` calls are dispatched per turn of the event loop: 64 is a pipelined
 * msgpack-rpc chunk (the observers' clock is read once for all of them), 1 an HTTP request
 * (two clock readings per call).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const SELF = fileURLToPath(import.meta.url);

/** The measured loop: `--child ROOT MODE CALLS PER_TURN`. */
async function child(root: string, mode: string, calls: number, perTurn: number) {
  const { Router } = await import(`${root}/src/core/router/router.ts`);
  const { bench } = await import(`${root}/scripts/bench/bench_component.ts`);
  const { Metrics } = await import(`${root}/src/observe/metrics.ts`);
  const { AccessLog } = await import(`${root}/src/observe/access_log.ts`);
  const { QueuedWriter } = await import(`${root}/src/observe/log_writer.ts`);
  const { instrument } = await import(`${root}/src/observe/instrument.ts`);
  const router = new Router();
  router.register(bench);
  if (mode === "observed" || mode === "metrics" || mode === "log") {
    const file = await Deno.open("/dev/null", { write: true });
    const writer = new QueuedWriter((bytes: Uint8Array) => file.write(bytes));
    instrument(router, {
      metrics: mode === "log" ? undefined : new Metrics(),
      log: mode === "metrics" ? undefined : new AccessLog({ sink: writer.sink }),
    });
  } else if (mode === "traced") {
    const { startOtlpExport } = await import(`${root}/src/observe/otlp_tracing.ts`);
    const sampler = "parentbased_always_off";
    startOtlpExport({ url: "http://127.0.0.1:9/v1/traces", sampler });
    instrument(router, { tracing: { exporting: true, sampler } });
  }
  // A macrotask now and then, so that the log's writes and timers run as they do in a server.
  const channel = new MessageChannel();
  let wake: (() => void) | undefined;
  channel.port1.onmessage = () => wake?.();
  const macrotask = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      channel.port2.postMessage(0);
    });
  let id = 0;
  for (let i = 0; i < calls; i += perTurn) {
    for (let j = 0; j < perTurn; j++) {
      router.dispatch({
        method: "Bench.add",
        params: [1, 2],
        protocol: "msgpack-rpc",
        id: id++ & 0xffff,
        remote: "127.0.0.1",
      });
    }
    await null;
    if ((i / perTurn) % 64 === 63) await macrotask();
  }
  channel.port1.close();
  Deno.exit(0);
}

/** The instruction total of running `calls` calls of `mode` from `root` under callgrind. */
async function total(root: string, mode: string, calls: number, perTurn: number) {
  const dir = await Deno.makeTempDir({ prefix: "switchboard-observers-" });
  try {
    const { success } = await new Deno.Command("valgrind", {
      args: [
        "--tool=callgrind",
        "--smc-check=all-non-file",
        `--callgrind-out-file=${dir}/out`,
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        "--v8-flags=--single-threaded",
        "--config",
        `${root}/deno.json`,
        SELF,
        "--child",
        root,
        mode,
        String(calls),
        String(perTurn),
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) throw new Error(`${mode} under callgrind failed`);
    const text = await Deno.readTextFile(`${dir}/out`);
    return Number(text.match(/^(?:summary|totals): (\d+)/m)![1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    const [, root, mode, calls, perTurn] = Deno.args;
    await child(root, mode, Number(calls), Number(perTurn));
  }
  const flags: Record<string, string> = {
    modes: "plain,observed,traced",
    "per-turn": "64",
    calls: "100000",
    baseline: "",
  };
  for (let i = 0; i < Deno.args.length; i += 2) {
    flags[Deno.args[i].replace(/^--/, "")] = Deno.args[i + 1];
  }
  const n = Number(flags.calls), perTurn = Number(flags["per-turn"]);
  const roots = [ROOT, ...(flags.baseline ? [flags.baseline] : [])];
  console.log(`Observer instructions per call (callgrind), ${perTurn} call(s) a turn:\n`);
  console.log(`| mode | ${roots.join(" | ")} |\n| --- |${" ---: |".repeat(roots.length)}`);
  for (const mode of flags.modes.split(",")) {
    const counts: number[] = [];
    for (const root of roots) {
      // The baseline may predate a mode (traced): its cell stays empty.
      const [one, three] = await Promise.all([
        total(root, mode, n, perTurn),
        total(root, mode, 3 * n, perTurn),
      ]).catch(() => [NaN, NaN]);
      counts.push(Math.round((three - one) / (2 * n)));
    }
    console.log(`| ${mode} | ${counts.join(" | ")} |`);
  }
}
